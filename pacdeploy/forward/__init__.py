"""`pacdeploy forward`: a port-forward to a Service that outlives its pods.

service.py  which pod port a Service port means (kubectl's rules), and which pods are ready
stream.py   one port-forward websocket to one pod, and the byte pump that owns it
pool.py     streams opened ahead of need, each owned by the pool until taken
server.py   the local listener: a stream per accepted connection, round-robin over pods
workers.py  threads kept for the next connection instead of started for each
display.py  the live status line, and notices such as a pod refusing a connection
"""

DEFAULT_LOCAL_PORT = 9090  # the lesson's `kubectl port-forward svc/pacman 9090:80`
