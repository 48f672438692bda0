//! The `--help` texts, apart from the parser so the option table reads as one page (a unit
//! test checks that it names every option the parser knows).

/// `squall --help`: one line per option.
pub const HELP: &str = "\
squall - an HTTP/1.1 client on its own event loop

Usage: squall [OPTIONS] <URL>...
       squall bench [-n N] [-c C] [-d SECS] [-k] [--cacert FILE] [--no-keepalive] <URL>

Options:
  -X, --request METHOD        method (default GET, or POST with a body); any token, as given
  -H, --header \"Name: value\"  extra request header (repeatable)
  -d, --data DATA             request body, byte for byte; @FILE reads a file, @- stdin
      --data-binary DATA      the same as -d
      --json DATA             body, with Content-Type and Accept: application/json
  -u, --user USER:PASS        basic auth (userinfo in the URL wins)
  -A, --user-agent UA         User-Agent (default squall/VERSION)
  -o, --output FILE           write the body to FILE, streamed (one -o per URL, in order)
  -i, --include               print the response head(s) before the body
  -I, --head                  send HEAD and print the response head(s)
  -f, --fail                  exit 22 when the final status is >= 400
      --no-follow             do not follow redirects (default: follow)
  -L, --location              follow redirects (the default; last of -L/--no-follow wins)
      --compressed            accepted for curl habits (decompression is the default)
      --max-redirects N       most redirects to follow (default 5)
      --connect-timeout SECS  limit for connecting (default 20)
  -m, --max-time SECS         one budget for the whole transfer, redirects included
      --cacert FILE           trust the PEM roots in FILE (else SSL_CERT_FILE/SSL_CERT_DIR)
      --cert FILE             client certificate chain (PEM)
      --key FILE              client private key (PEM)
  -k, --insecure              skip certificate verification
      --raw                   no Accept-Encoding: gzip, no decompression
      --max-body-size BYTES   refuse larger (decoded) bodies (alias --max-filesize; K/M/G ok)
      --resolve HOST:PORT:ADDR  connect to ADDR for HOST:PORT
      --dns-servers LIST      resolve with these DNS servers (ADDR[:PORT],...), on the loop
  -x, --proxy URL             HTTP proxy ([http://][USER:PASS@]HOST[:PORT], port 1080 by
                              default; \"\" for none); https goes through CONNECT
      --noproxy LIST          hosts to reach directly (replaces no_proxy; * for all)
  -U, --proxy-user USER:PASS  basic auth for the proxy (userinfo in the proxy URL wins)
  -w, --write-out FORMAT      print FORMAT after each URL (%{http_code}, ...; @FILE reads it)
  -v, --verbose               request and response heads on stderr
  -s, --silent                no progress bar
  -S, --show-error            accepted for curl habits (the error line always shows)
  -P, --parallel N            fetch N URLs at once (default 1); output stays in URL order
      --trace-loop FILE       record every turn of the event loop in FILE (Chrome Trace
                              Event JSON: open it in ui.perfetto.dev or chrome://tracing)
  -h, --help                  this help
  -V, --version               print the version

Without -x, proxies come from http_proxy (never HTTP_PROXY), https_proxy/HTTPS_PROXY,
all_proxy/ALL_PROXY and no_proxy/NO_PROXY, by curl's rules.

-w variables: http_code url_effective num_redirects size_download content_type time_connect
time_starttransfer time_total (also response_code http_version size_header method scheme
exitcode errormsg time_namelookup time_appconnect num_headers url speed_download, header{NAME})
";

/// `squall bench --help`.
pub const BENCH_HELP: &str = "\
squall bench - a load generator on one AsyncHttpClient

Usage: squall bench [OPTIONS] <URL>

Options:
  -n, --requests N       total requests (default 10000, or unlimited when only -d is given)
  -c, --concurrency C    concurrent keep-alive loops (default 1)
  -d, --duration SECS    stop after SECS (with -n: whichever comes first)
  -k, --insecure         skip certificate verification
      --cacert FILE      trust the PEM roots in FILE
      --no-keepalive     a new connection (and TLS handshake) for every request
  -h, --help             this help

Prints requests, errors, req/s and p50/p99/max latency; the last line is `req/s: <number>`.
";
