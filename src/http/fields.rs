//! Two field values squall writes itself: the credentials of `Authorization: Basic` (and
//! `Proxy-Authorization`), which are base64, and the IMF-fixdate of `If-Modified-Since`.
//!
//! They are pure text formats of HTTP (RFC 7617, RFC 4648, RFC 9110 §5.6.7), with no I/O and
//! no policy, so they live in the protocol core beside the other field rules; the client
//! (`client/prepare.rs`, `client/proxy.rs`) decides when to send them. They are public (the
//! tests and callers check credentials with them) and keep their old paths,
//! `squall::client::request::{base64, http_date}`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The `Basic` credentials of `user` and `pass`: `Basic ` and the base64 of `user:pass`
/// (RFC 7617 §2; UTF-8 as given, R-13).
pub fn basic_credentials(user: &str, pass: &str) -> String {
    format!("Basic {}", base64(format!("{user}:{pass}").as_bytes()))
}

/// Standard base64 with padding (RFC 4648 §4), for `Authorization: Basic`.
pub fn base64(input: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(input.len().div_ceil(3) * 4);
    for chunk in input.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(T[(n >> 18) as usize & 63] as char);
        out.push(T[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 {
            T[(n >> 6) as usize & 63] as char
        } else {
            '='
        });
        out.push(if chunk.len() > 2 {
            T[n as usize & 63] as char
        } else {
            '='
        });
    }
    out
}

/// An IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 27 Jan 2013 18:43:20 GMT`. Times before the
/// epoch are clamped to it.
pub fn http_date(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (h, m, s) = (rem / 3600, (rem % 3600) / 60, rem % 60);
    // 1970-01-01 was a Thursday.
    const WD: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    const MON: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let wd = WD[(days % 7) as usize];
    let (y, mo, d) = crate::calendar::civil_from_days(days);
    format!(
        "{wd}, {d:02} {} {y:04} {h:02}:{m:02}:{s:02} GMT",
        MON[mo as usize - 1]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn r12_basic_auth_encoding() {
        assert_eq!(
            base64(b"Aladdin:open sesame"),
            "QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        // R-13 (squall: UTF-8 as given, no NFC).
        assert_eq!(base64("test:123£".as_bytes()), "dGVzdDoxMjPCow==");
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"a"), "YQ==");
        assert_eq!(base64(b"ab"), "YWI=");
        assert_eq!(base64(b"abc"), "YWJj");
    }

    #[test]
    fn r18_if_modified_since_is_imf_fixdate() {
        let t = UNIX_EPOCH + Duration::from_secs(1_359_312_200);
        assert_eq!(http_date(t), "Sun, 27 Jan 2013 18:43:20 GMT");
        assert_eq!(http_date(UNIX_EPOCH), "Thu, 01 Jan 1970 00:00:00 GMT");
        // A leap day and the year 2000.
        let t = UNIX_EPOCH + Duration::from_secs(951_782_400);
        assert_eq!(http_date(t), "Tue, 29 Feb 2000 00:00:00 GMT");
        let t = UNIX_EPOCH + Duration::from_secs(4_102_444_799);
        assert_eq!(http_date(t), "Thu, 31 Dec 2099 23:59:59 GMT");
    }

    #[test]
    fn basic_credentials_join_user_and_password() {
        assert_eq!(
            basic_credentials("Aladdin", "open sesame"),
            "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ=="
        );
        assert_eq!(
            basic_credentials("x", ""),
            format!("Basic {}", base64(b"x:"))
        );
    }
}
