"""The drill's nginx: its own config in the temp dir, one upstream of the two web groups."""

# One line per request: when it ended, what the client got, which groups nginx tried.
ACCESS_FIELDS = "$msec|$request_method|$status|$upstream_addr|$upstream_status|$request_time"


def nginx_conf(*, prefix, port, upstreams, fail_timeout=10):
    """Return an nginx.conf that listens on 127.0.0.1:`port` and balances over `upstreams`.

    proxy_next_upstream stays at its default, "error timeout": since nginx 1.9.13 a POST (any
    non-idempotent method) is passed to the next group only if it was never sent to the first
    one (connection refused); once sent, a failure is the client's 502, never a second booking.
    """
    servers = "\n".join(
        f"        server 127.0.0.1:{p} max_fails=1 fail_timeout={fail_timeout}s;" for p in upstreams
    )
    return f"""# Written by deploy/drill for one run; nothing else reads it.
worker_processes 1;
daemon off;
pid {prefix}/nginx.pid;
error_log {prefix}/nginx-error.log warn;

events {{
    worker_connections 1024;
}}

http {{
    log_format drill '{ACCESS_FIELDS}';
    access_log {prefix}/nginx-access.log drill;
    client_body_temp_path {prefix}/client_body;
    proxy_temp_path {prefix}/proxy;
    fastcgi_temp_path {prefix}/fastcgi;
    uwsgi_temp_path {prefix}/uwsgi;
    scgi_temp_path {prefix}/scgi;
    client_body_buffer_size 64k;

    upstream antrean {{
{servers}
    }}

    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://antrean;
            proxy_set_header Host $host;
            proxy_set_header X-Real-IP $remote_addr;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_next_upstream error timeout;
            proxy_next_upstream_tries 2;
            proxy_connect_timeout 2s;
            proxy_read_timeout 60s;
        }}
    }}
}}
"""


def read_access_log(text):
    """Yield (ended_at, method, status, upstream_addrs, upstream_statuses) per logged request."""
    for line in text.splitlines():
        parts = line.split("|")
        if len(parts) != 6:
            continue
        ended, method, status, addrs, statuses, _seconds = parts
        yield (
            float(ended),
            method,
            int(status),
            [a.strip() for a in addrs.split(",") if a.strip() not in ("", "-")],
            [s.strip() for s in statuses.split(",") if s.strip() not in ("", "-")],
        )
