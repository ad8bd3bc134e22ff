"""`pacdeploy forward`: a port-forward to a Service that outlives its pods.

service.py  which pod port a Service port means (kubectl's rules), and which pods are ready
spdy.py     SPDY/3.1 frames, the protocol kubectl tunnels through a websocket
wsframes.py the server's side of a websocket (RFC 6455 frames), read in large chunks
tunnel.py   one websocket to one pod carrying every connection to it, and its reader
stream.py   one connection's streams on a tunnel, and the pump that owns them
tunnels.py  the tunnels: one per ready pod, opened before a connection needs it
server.py   the local listener: a stream per accepted connection, round-robin over pods
workers.py  threads kept for the next connection instead of started for each
display.py  the live status line, and notices such as a pod refusing a connection
"""

DEFAULT_LOCAL_PORT = 9090  # the lesson's `kubectl port-forward svc/pacman 9090:80`
