//! Tasks on the loop: join handles, cancellation, wakes during a poll, twice, stale or from
//! many threads, fairness against timers, `oneshot`, and what a dropped loop does to its
//! tasks.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;

use squall::ioloop::{self, IoLoop, JoinError, RunError, oneshot, sleep, spawn};

use crate::ms;

/// Sets its flag when dropped: proves a task (and what it holds) was dropped.
struct Flag(Rc<Cell<bool>>);
impl Drop for Flag {
    fn drop(&mut self) {
        self.0.set(true);
    }
}

#[test]
fn join_handle_output_cancel_and_detach() {
    let lp = IoLoop::new();
    lp.run_sync(async {
        // Output.
        assert_eq!(spawn(async { 1 + 1 }).await, Ok(2));
        // Cancel drops the future.
        let dropped = Rc::new(Cell::new(false));
        let f = Flag(dropped.clone());
        let h = spawn(async move {
            let _f = f;
            sleep(Duration::from_secs(60)).await;
        });
        sleep(ms(1)).await;
        assert!(!h.is_finished());
        h.cancel();
        assert!(dropped.get());
        assert_eq!(h.await, Err(JoinError::Cancelled));
        // Detach: dropping the handle keeps the task running.
        let (tx, rx) = oneshot::<u8>();
        drop(spawn(async move {
            sleep(ms(2)).await;
            tx.send(3).unwrap();
        }));
        assert_eq!(rx.await, Ok(3));
    });
    assert_eq!(lp.stats().tasks, 0);
    assert_eq!(lp.stats().timers, 0);
}

#[test]
fn task_cancels_itself_from_its_own_poll() {
    let lp = IoLoop::new();
    let slot: Rc<RefCell<Option<ioloop::JoinHandle<()>>>> = Rc::new(RefCell::new(None));
    let s2 = slot.clone();
    let reached = Rc::new(Cell::new(false));
    let r2 = reached.clone();
    let h = lp.spawn(async move {
        sleep(ms(1)).await;
        if let Some(h) = s2.borrow().as_ref() {
            h.cancel();
        }
        sleep(ms(1)).await;
        r2.set(true);
    });
    *slot.borrow_mut() = Some(h);
    lp.run_sync(sleep(ms(20)));
    assert!(!reached.get());
    assert!(slot.borrow().as_ref().unwrap().is_finished());
    assert_eq!(lp.stats().tasks, 0);
}

#[test]
fn a_task_woken_during_its_poll_is_polled_again() {
    use std::future::poll_fn;
    use std::task::Poll;
    let lp = IoLoop::new();
    let polls = lp.run_sync(async {
        spawn(async {
            let mut n = 0;
            poll_fn(|cx| {
                n += 1;
                if n < 5 {
                    cx.waker().wake_by_ref(); // wake ourselves while being polled
                    Poll::Pending
                } else {
                    Poll::Ready(())
                }
            })
            .await;
            n
        })
        .await
    });
    assert_eq!(polls, Ok(5));
}

#[test]
fn a_task_woken_twice_before_it_runs_is_polled_once() {
    use std::future::poll_fn;
    use std::task::{Poll, Waker};
    let lp = IoLoop::new();
    let polls = Rc::new(Cell::new(0));
    let done = Rc::new(Cell::new(false));
    let waker: Rc<RefCell<Option<Waker>>> = Rc::default();
    let (p, d, w) = (polls.clone(), done.clone(), waker.clone());
    let task = lp.spawn(poll_fn(move |cx| {
        p.set(p.get() + 1);
        if d.get() {
            return Poll::Ready(());
        }
        *w.borrow_mut() = Some(cx.waker().clone());
        Poll::Pending
    }));
    let polls_seen = lp.run_sync(async move {
        sleep(ms(5)).await; // the task was polled once and waits
        let w = waker.borrow().clone().expect("the task stored its waker");
        // Two wakes in one callback: the task's "scheduled" flag queues it only once.
        IoLoop::current().add_callback(move || {
            w.wake_by_ref();
            w.wake_by_ref();
        });
        // Wait for the poll those wakes cause; a second poll, if any, would come in the same
        // batch, before this future runs again.
        while polls.get() < 2 {
            sleep(ms(1)).await;
        }
        let seen = polls.get();
        done.set(true);
        let w = waker.borrow().clone().unwrap();
        w.wake();
        task.await.unwrap();
        seen
    });
    assert_eq!(polls_seen, 2, "one poll at spawn, one for the two wakes");
}

#[test]
fn a_stale_wake_never_polls_the_task_that_reuses_the_slot() {
    use std::future::poll_fn;
    use std::task::{Poll, Waker};
    let lp = IoLoop::new();
    let polls_of_b = lp.run_sync(async {
        let lp = IoLoop::current();
        let waker_a: Rc<RefCell<Option<Waker>>> = Rc::default();
        let w = waker_a.clone();
        let a = lp.spawn(poll_fn(move |cx| {
            *w.borrow_mut() = Some(cx.waker().clone());
            Poll::<()>::Pending
        }));
        sleep(ms(5)).await; // A was polled once and waits
        let stale = waker_a.borrow_mut().take().expect("A stored its waker");
        // In one go: wake A (its key is queued), cancel A (its slot is freed), spawn B (it
        // takes the free slot). The queued key of A now names B's slot, with an old generation.
        stale.wake_by_ref();
        a.cancel();
        let polls = Rc::new(Cell::new(0));
        let p = polls.clone();
        let b = lp.spawn(poll_fn(move |_| {
            p.set(p.get() + 1);
            Poll::<()>::Pending
        }));
        sleep(ms(5)).await;
        b.cancel();
        polls.get()
    });
    assert_eq!(
        polls_of_b, 1,
        "B is polled once, at spawn; A's stale key is ignored"
    );
}

#[test]
fn a_self_waking_task_does_not_starve_timers_or_callbacks() {
    use std::future::poll_fn;
    use std::task::Poll;
    let lp = IoLoop::new();
    let stop = Rc::new(Cell::new(false));
    let s = stop.clone();
    // Spins forever, waking itself on every poll.
    drop(lp.spawn(poll_fn(move |cx| {
        if s.get() {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })));
    let fired = Rc::new(Cell::new(false));
    let f = fired.clone();
    lp.call_later(ms(5), move || f.set(true));
    let s2 = stop.clone();
    let fired2 = fired.clone();
    let ok = lp.run_sync_timeout(
        async move {
            while !fired2.get() {
                sleep(ms(1)).await;
            }
            s2.set(true);
        },
        Duration::from_secs(20),
    );
    assert!(ok.is_ok());
    assert!(fired.get());
}

#[test]
fn oneshot_from_thread_and_canceled_sender() {
    let lp = IoLoop::new();
    let (tx, rx) = oneshot::<String>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(ms(10));
        tx.send("from thread".into()).unwrap();
    });
    assert_eq!(lp.run_sync(rx).unwrap(), "from thread");
    t.join().unwrap();
    let (tx, rx) = oneshot::<u8>();
    let t = std::thread::spawn(move || {
        std::thread::sleep(ms(10));
        drop(tx);
    });
    assert_eq!(lp.run_sync(rx), Err(ioloop::Canceled));
    t.join().unwrap();
    let (tx, rx) = oneshot::<u8>();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(1), Err(1));
}

#[test]
fn dropping_a_loop_cancels_its_tasks_for_their_handles() {
    let lp = IoLoop::new();
    let h = lp.spawn(sleep(Duration::from_secs(60)));
    drop(lp);
    assert!(h.is_finished());
    let other = IoLoop::new();
    assert_eq!(other.run_sync(h), Err(JoinError::Cancelled));
}

#[test]
fn thread_safety_of_the_cross_thread_types() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<ioloop::LoopHandle>();
    send::<ioloop::OneshotSender<Vec<u8>>>();
    send::<ioloop::OneshotReceiver<Vec<u8>>>();
    send_sync::<RunError>();
    send_sync::<JoinError>();
}

#[test]
fn tasks_woken_from_many_threads_all_complete() {
    // Each task waits on a oneshot fed by another thread: the wakes arrive through the
    // remote queue while the loop sleeps in poll or runs other tasks.
    let lp = IoLoop::new();
    let total = lp.run_sync_timeout(
        async {
            let mut handles = Vec::new();
            let mut senders = Vec::new();
            for i in 0..400u64 {
                let (tx, rx) = oneshot::<u64>();
                senders.push((i, tx));
                handles.push(spawn(async move { rx.await.unwrap() }));
            }
            let mut threads = Vec::new();
            // Hand the senders out to 4 threads.
            let mut per_thread: Vec<Vec<(u64, ioloop::OneshotSender<u64>)>> =
                (0..4).map(|_| Vec::new()).collect();
            for (n, s) in senders.into_iter().enumerate() {
                per_thread[n % 4].push(s);
            }
            for batch in per_thread {
                threads.push(std::thread::spawn(move || {
                    for (i, tx) in batch {
                        if i % 50 == 0 {
                            std::thread::sleep(Duration::from_millis(1));
                        }
                        tx.send(i).unwrap();
                    }
                }));
            }
            let mut sum = 0;
            for h in handles {
                sum += h.await.unwrap();
            }
            for t in threads {
                t.join().unwrap();
            }
            sum
        },
        Duration::from_secs(60),
    );
    assert_eq!(total, Ok((0..400).sum::<u64>()));
    assert_eq!(lp.stats().tasks, 0);
}

#[test]
fn wakes_sent_while_the_loop_is_not_running_are_kept_for_the_next_run() {
    let lp = IoLoop::new();
    let (tx, rx) = oneshot::<u32>();
    let h = lp.spawn(async move { rx.await.unwrap() + 1 });
    // The task runs once and waits on the channel.
    lp.run_sync(sleep(ms(1)));
    assert!(!h.is_finished());
    // Sent from a thread while the loop is idle (not running): the wake is queued.
    std::thread::spawn(move || tx.send(41).unwrap())
        .join()
        .unwrap();
    let handle = lp.handle();
    std::thread::spawn(move || handle.add_callback(|| {}))
        .join()
        .unwrap();
    assert_eq!(lp.run_sync(h), Ok(42));
}
