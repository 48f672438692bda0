//! Rung 4: sockets. An echo server and its client, both tasks on one loop, on
//! `ioloop::TcpListener` / `TcpStream`. Every socket is non-blocking and registered with
//! epoll *edge-triggered*: the kernel says "readable" once per change, so each socket keeps a
//! readiness flag. A read runs while the flag is set; `WouldBlock` clears it and the task
//! waits; the next edge sets it again and wakes the task (see `src/ioloop/reactor.rs`).
//!
//! Run it: `cargo run --example 04_tcp_echo`. With `SQUALL_TRACE=1`, t0 is the client (the
//! first socket polled), t1 the listener and t2 the accepted connection.

use std::io::ErrorKind;
use std::net::{Shutdown, SocketAddr};

use squall::IoLoop;
use squall::ioloop::{TcpListener, TcpStream, spawn};

/// Echo every byte back until the peer closes its side.
async fn serve(listener: TcpListener) -> std::io::Result<usize> {
    let (stream, peer) = listener.accept().await?;
    println!("server: accepted {peer}");
    let (mut buf, mut echoed) = (vec![0u8; 4096], 0);
    loop {
        let n = stream.read(&mut buf).await?; // Pending until an edge, then reads
        if n == 0 {
            return Ok(echoed); // end of stream
        }
        stream.write_all(&buf[..n]).await?;
        echoed += n;
    }
}

fn main() -> std::io::Result<()> {
    IoLoop::new().run_sync(async {
        let listener = TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))?;
        let addr = listener.local_addr()?;
        let server = spawn(serve(listener));

        let client = TcpStream::connect(addr).await?; // waits for the "writable" edge
        // Nothing has arrived yet: a non-blocking read says WouldBlock instead of waiting.
        match client.try_read(&mut [0u8; 16]) {
            Err(e) if e.kind() == ErrorKind::WouldBlock => println!("client: try_read: WouldBlock"),
            other => println!("client: try_read: {other:?}"),
        }
        let message = b"hello, edge-triggered world";
        client.write_all(message).await?;
        client.shutdown(Shutdown::Write)?; // the server's read returns 0 after the echo

        let (mut back, mut buf) = (Vec::new(), [0u8; 8]); // small buffer: several reads
        loop {
            let n = client.read(&mut buf).await?;
            if n == 0 {
                break;
            }
            back.extend_from_slice(&buf[..n]);
        }
        println!("client: got back {:?}", String::from_utf8_lossy(&back));
        assert_eq!(back, message);
        let echoed = server.await.expect("the server task ran")?;
        println!("server: echoed {echoed} bytes, then saw end of stream");
        Ok(())
    })
}

// Try this: give the server a 4-byte buffer instead of 4096. The echo now takes seven reads
// and seven writes, yet `SQUALL_TRACE=1` shows the same three turns as before: a read that
// fills its buffer leaves the readable flag set (more may be waiting), so the next read is
// tried at once, in the same poll of the task, with no trip through epoll. Only the last,
// short read clears the flag (the "short read rule" of reactor.rs).
