"""The Kubernetes layer: what pacdeploy knows of the API, and the one way it talks to it.

resources.py   the registry of kinds (group, version, plural, scope) and every URL path
bodies.py      typed views of the objects read most: pods, workloads, claims, snapshots
kubeconfig.py  which files, merged by client-go's rules, into one context's Endpoint
decode.py      one kubeconfig file decoded as client-go decodes it (types, names, base64)
validation.py  what client-go refuses in a context's cluster and user, before any request
identity.py    who a user entry says we are: token, exec plugin, oidc, impersonation
credentials.py impersonation headers, oidc id-tokens, the cluster an exec plugin is told
dialing.py     dialing the API server: client-go's socket options, connections opened first
tls.py         the TLS context (client-go's TLSConfigFor), handshakes one thread steps through
transport.py   the credentials layer: TLS trust, who we are, the proxy; every connection's origin
execplugin.py  exec credential plugins (EKS, GKE, AKS), cached and re-run as client-go does
proxy.py       which proxy kubectl would use, and tunnelling through it (CONNECT, SOCKS5)
wire.py        Wire.exchange: every request built and sent in one place (REST, watch, websocket)
duplex.py      a websocket's TLS socket shared by a reader and a writer: one TLS call at a time
official.py    the official client's parts we use: its REST layer, ApiException, parse_quantity
stand_ins.py   package __init__s not run (kubernetes, urllib3.http2), for the pinned versions
client.py      Cluster: builds every request, one call path, the object verbs on top
retries.py     asking again after a transient failure (tenacity, loaded on the first one)
watch.py       watching, and following a selection (list, then watch; again after 410)
logs.py        container logs (pods/log): read once, or followed as they grow
podexec.py     running a command in a container (pods/exec over a websocket)
fanout.py      the one policy for requests side by side (threads, how many at once)
permissions.py what the caller may do: rules reviews, then access reviews
errors.py      how an API or transport failure becomes an error a user can act on
contexts.py    adding or removing a named context in a kubeconfig file, as kind does
"""
