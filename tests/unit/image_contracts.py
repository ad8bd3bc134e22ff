"""What the manifests rely on inside the images, each fact with the source file it comes from.

Two stacks (pacdeploy/app/stacks.py): the lesson's (MongoContract: Bitnami MongoDB 4.4,
PacmanContract: quay.io/ifont/pacman-nodejs-app) and the modern one (OfficialMongoContract:
docker-library's mongo 8.0, SaintdlePacmanContract: docker.io/saintdle/pacman).

No container runs on the sandbox, so nothing else would catch a manifest that makes a real
container crash (a wrong group, an env name the image never reads, a path it cannot write).
These facts were read from the images' own sources; `test_image_contracts.py` checks every
rendered manifest against them. Change a fact only with a new source to cite.
"""

from __future__ import annotations

from dataclasses import dataclass

# bitnami/bitnami-docker-mongodb, branch 4.4/debian-10, release 4.4.4-debian-10-r26: the newest
# 4.4 release in that repository's stored history. The review in issue 8 read the same files
# at 4.4.8-debian-10-r48 (the lesson's tag) and found the same group, env and path facts.
BITNAMI = "bitnami/bitnami-docker-mongodb@d606b5cc5bb47ccb013efa04943eb69af4ededd0:4.4/debian-10/"
# font/pacman, the source quay.io/ifont/pacman-nodejs-app is built from (docker/Dockerfile
# clones it and runs `npm start`).
PACMAN = "font/pacman@917d3a35ee8d664fa7d8667f7e1738579d05b11d:"


@dataclass(frozen=True)
class Fact:
    value: object
    source: str  # repository@commit:path, and where in it


@dataclass(frozen=True)
class MongoContract:
    user = Fact(1001, BITNAMI + "Dockerfile: USER 1001")
    # The image has no passwd entry for 1001, so the runtime gives it group 0; the dirs the
    # setup writes are made group-0 writable and nothing else.
    group = Fact(
        0,
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb/postunpack.sh: chmod -R g+rwX "
        "$MONGODB_TMP_DIR $MONGODB_LOG_DIR $MONGODB_CONF_DIR ...; chmod g+w $MONGODB_CONF_FILE",
    )
    image_writable_paths = Fact(
        (
            "/opt/bitnami/mongodb/conf",
            "/opt/bitnami/mongodb/tmp",
            "/opt/bitnami/mongodb/logs",
            "/tmp",
        ),
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb-env.sh: MONGODB_CONF_DIR, _TMP_DIR (pid "
        "file; mongodb.conf.tpl: unixDomainSocket pathPrefix), _LOG_DIR; setup rewrites "
        "mongodb.conf in place (libmongodb.sh mongodb_config_apply_regex); "
        "mongodb_custom_init_scripts writes /tmp/filelist",
    )
    # So the conf dir cannot be a bare emptyDir: it must be seeded from the image.
    conf_rendered_at_build = Fact(
        ("/opt/bitnami/mongodb/conf", "/opt/bitnami/mongodb/logs"),
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb/postunpack.sh: render-template "
        '"$MONGODB_MONGOD_TEMPLATES_FILE" >"$MONGODB_CONF_FILE" and ln -sf /dev/stdout '
        '"$MONGODB_LOG_FILE" at build; libmongodb.sh mongodb_initialize only edits the file '
        "(mongodb_set_net_conf, _log_conf, _storage_conf) and never renders it",
    )
    # Each of these is read from the file its *_FILE variable names (then unset).
    secret_files = Fact(
        frozenset(
            {
                "MONGODB_ROOT_PASSWORD_FILE",
                "MONGODB_USERNAME_FILE",
                "MONGODB_PASSWORD_FILE",
                "MONGODB_DATABASE_FILE",
            }
        ),
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb-env.sh: for env_var in mongodb_env_vars:"
        ' file_env_var="${env_var}_FILE"; export "${env_var}=$(< "${!file_env_var}")"',
    )
    shell = Fact(
        "/bin/bash",
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb/postunpack.sh: #!/bin/bash (as every "
        "script of the image); Dockerfile: FROM docker.io/bitnami/minideb:buster",
    )
    volume_path = Fact(
        "/bitnami/mongodb",
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb-env.sh: MONGODB_VOLUME_DIR=/bitnami, "
        "MONGODB_DATA_DIR=${MONGODB_VOLUME_DIR}/mongodb/data",
    )
    port = Fact(
        27017,
        BITNAMI + "Dockerfile: EXPOSE 27017; mongodb-env.sh: MONGODB_DEFAULT_PORT_NUMBER=27017",
    )
    env_read = Fact(
        frozenset(
            {
                "MONGODB_ROOT_PASSWORD",
                "MONGODB_USERNAME",
                "MONGODB_PASSWORD",
                "MONGODB_DATABASE",
                "MONGODB_EXTRA_FLAGS",
                "MONGODB_PORT_NUMBER",
                "MONGODB_ENABLE_DIRECTORY_PER_DB",
                "MONGODB_DISABLE_SYSTEM_LOG",
                "MONGODB_SYSTEM_LOG_VERBOSITY",
                "ALLOW_EMPTY_PASSWORD",
                "MONGODB_ROOT_PASSWORD_FILE",
                "MONGODB_USERNAME_FILE",
                "MONGODB_PASSWORD_FILE",
                "MONGODB_DATABASE_FILE",
            }
        ),
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb-env.sh (exports with defaults, and the "
        "*_FILE of each of mongodb_env_vars)",
    )
    # The app user is only created when all three are set.
    env_required_together = Fact(
        ("MONGODB_USERNAME", "MONGODB_PASSWORD", "MONGODB_DATABASE"),
        BITNAMI + "rootfs/opt/bitnami/scripts/libmongodb.sh: mongodb_create_users",
    )
    # The root user is created as "root"; this release does not read MONGODB_ROOT_USER.
    root_user = Fact(
        "root",
        BITNAMI + 'rootfs/opt/bitnami/scripts/libmongodb.sh: mongodb_execute "root" '
        '"$MONGODB_ROOT_PASSWORD" "admin" (mongodb_create_users)',
    )
    # Passwords are pasted into a single-quoted JavaScript string.
    password_forbidden = Fact(
        frozenset("'\"\\"),
        BITNAMI + "rootfs/opt/bitnami/scripts/libmongodb.sh: createUser({ user: "
        "'$MONGODB_USERNAME', pwd: '$MONGODB_PASSWORD', ... })",
    )
    extra_flags_to_mongod = Fact(
        "MONGODB_EXTRA_FLAGS",
        BITNAMI + "rootfs/opt/bitnami/scripts/mongodb/run.sh: read -r -a extra_flags <<< "
        '"$MONGODB_EXTRA_FLAGS"; flags+=("${extra_flags[@]}")',
    )
    shell_on_path = Fact(
        "mongo",
        BITNAMI + 'Dockerfile: ENV PATH="/opt/bitnami/common/bin:/opt/bitnami/mongodb/bin:$PATH"'
        " (4.4 ships the legacy `mongo` shell)",
    )
    # How a backup's db.fsyncLock() authenticates without a password on a command line.
    shell_reads_files = Fact(
        "cat",
        "mongodb/mongo@0206a83fa7500bd7aa4e416de586942d177e4206:src/mongo/shell/"
        'shell_utils_extended.cpp: scope.injectNative("cat", cat) (the legacy shell\'s '
        "cat(filename), new in 4.0.5 as mongodb.com/docs/v4.0/reference/method/cat/ says)",
    )
    # How a backup learns whether mongod locked or unlocked: the shell's exit code.
    shell_exits_with = Fact(
        "quit",
        "mongodb/mongo@4e62cebd32bfc6b5f3283b111a9a79b25ca3d791:jstests/noPassthrough/"
        "shell_quit.js: `mongo --nodb --eval 'quit(5)'` exits with 5",
    )
    has_chown = Fact(
        "chown",
        BITNAMI + "Dockerfile: FROM docker.io/bitnami/minideb:buster (Debian coreutils); "
        "libmongodb.sh itself runs chown when root",
    )
    # `backup export`/`import` and the move run them in the mongod container. The 4.4
    # Dockerfile unpacks Bitnami's "mongodb" component, whose contents are in no source:
    # Bitnami's own chart runs mongodump in this image, and users ran it in the 4.4 era.
    tools = Fact(
        frozenset({"mongo", "mongodump", "mongorestore"}),
        "bitnami/charts@003925208cf5bf2345a2e9cb90ed32f46249b706:bitnami/mongodb/templates/"
        'backup/cronjob.yaml: image: {{ include "mongodb.image" . }}, command /bin/sh -c '
        '"mongodump ... --archive=..."; bitnami/charts#8127 (2021-11, MongoDB 4.4): '
        "`mongodump --db=xxxxx --out=yyyy` run in the image; mongorestore ships beside it "
        "in the component (mongodb-database-tools, separate since 4.4)",
    )
    platforms = Fact(("amd64",), BITNAMI + 'Dockerfile: OS_ARCH="amd64" (one build)')
    needs_avx = Fact(False, BITNAMI + 'Dockerfile: component_unpack "mongodb" "4.4.4-0" (4.4)')


@dataclass(frozen=True)
class PacmanContract:
    port = Fact(
        8080,
        PACMAN + "bin/server.js: normalizePort(process.env.PORT || '8080'); "
        "docker/Dockerfile: EXPOSE 8080",
    )
    env_read = Fact(
        frozenset(
            {
                "MONGO_SERVICE_HOST",
                "MONGO_NAMESPACE_SERVICE_HOST",
                "MONGO_DATABASE",
                "MY_MONGO_PORT",
                "MONGO_USE_SSL",
                "MONGO_VALIDATE_SSL",
                "MONGO_AUTH_USER",
                "MONGO_AUTH_PWD",
                "MONGO_REPLICA_SET",
                "MY_NODE_NAME",
                "PORT",
            }
        ),
        PACMAN + "lib/config.js (process.env.*), routes/location.js (MY_NODE_NAME), "
        "bin/server.js (PORT)",
    )
    # Authentication is used only when both are set; one alone silently connects without.
    auth_pair = Fact(
        ("MONGO_AUTH_USER", "MONGO_AUTH_PWD"),
        PACMAN + "lib/config.js: if(process.env.MONGO_AUTH_USER && process.env.MONGO_AUTH_PWD)",
    )
    # The password goes into the connection URL unescaped.
    password_forbidden = Fact(
        frozenset("@:/?#%[] "),
        PACMAN + "lib/config.js: url: `mongodb://${auth_details}${connection_details}/...`",
    )
    token_path = Fact(
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        PACMAN + "routes/location.js: getK8sCloudMetadata reads the token and ca.crt",
    )
    node_api = Fact(
        ("get", "nodes"),
        PACMAN + "routes/location.js: GET /api/v1/nodes/${node_name} on kubernetes.default.svc",
    )
    probe_path = Fact(
        "/",
        PACMAN + "app.js: app.use('/', express.static(path.join(__dirname, 'public'))) "
        "with public/index.html",
    )
    # The credentials come from the environment only: no *_FILE, no config file. So the web
    # pod takes the Secret as environment variables (checkov CKV_K8S_35 stays).
    credentials_from_env = Fact(
        ("MONGO_AUTH_USER", "MONGO_AUTH_PWD"),
        PACMAN + "lib/config.js: process.env.MONGO_AUTH_USER, process.env.MONGO_AUTH_PWD "
        "(the only source of the credentials)",
    )
    # Dockerfile has no USER (node:boron runs as root); the app only reads its files
    # (static, jade views, mongodb), so any non-root uid can run it.
    writes_nothing = Fact(True, PACMAN + "docker/Dockerfile (no USER, no VOLUME); app.js")
    # The password from the connection URL is printed on every failed connect.
    logs_secrets = Fact(
        True,
        PACMAN + "lib/database.js: console.log(config.database.url) when MongoClient.connect fails",
    )
    platforms = Fact(
        ("amd64",),
        PACMAN + "docker/Dockerfile: FROM node:boron, one `docker build`; no multi-platform "
        "build anywhere in the repository (what quay.io published is in no source)",
    )


# docker-library/mongo: the official image's Dockerfile and entrypoint for MongoDB 8.0.26.
OFFICIAL = "docker-library/mongo@2c69a57b939afb99266e8f97258adb178e9559e0:"
# saintdle/pacman, read file by file at the commits the index holds of each.
SAINTDLE = "saintdle/pacman@"
CHART = "saintdle/helm-charts@0c43e1aab541d4e0d3296aa9f0d0f6bd4ad9a513:charts/pacman/"


@dataclass(frozen=True)
class OfficialMongoContract:
    user = Fact(
        999,
        OFFICIAL + "8.0/Dockerfile: groupadd --gid 999 --system mongodb; useradd --uid 999 "
        "--system --gid mongodb --home-dir /data/db mongodb",
    )
    group = Fact(999, OFFICIAL + "8.0/Dockerfile: groupadd --gid 999 --system mongodb")
    volume_path = Fact(
        "/data/db",
        OFFICIAL + "8.0/Dockerfile: VOLUME /data/db /data/configdb; docker-entrypoint.sh "
        "_dbPath: ${dbPath:=/data/db}",
    )
    # The entrypoint's temporary files and mongod's socket; the image's other VOLUME.
    image_writable_paths = Fact(
        ("/tmp", "/data/configdb"),
        OFFICIAL + '8.0/docker-entrypoint.sh: : "${TMPDIR:=/tmp}"; jsonConfigFile, '
        'tempConfigFile and pidfile="$TMPDIR/docker-entrypoint-temp-mongod.pid"; '
        "Dockerfile: VOLUME /data/db /data/configdb",
    )
    # Run as 999 directly, the entrypoint neither chowns nor steps down (gosu): fsGroup
    # must make the volume writable.
    steps_down_only_as_root = Fact(
        True,
        OFFICIAL + '8.0/docker-entrypoint.sh: if [[ "$originalArgOne" == mongo* ]] && '
        "[ \"$(id -u)\" = '0' ]; then find ... -exec chown mongodb; exec gosu mongodb",
    )
    home = Fact("/data/db", OFFICIAL + "8.0/Dockerfile: ENV HOME /data/db (for mongosh)")
    secret_files = Fact(
        frozenset({"MONGO_INITDB_ROOT_USERNAME_FILE", "MONGO_INITDB_ROOT_PASSWORD_FILE"}),
        OFFICIAL + "8.0/docker-entrypoint.sh: file_env 'MONGO_INITDB_ROOT_USERNAME'; file_env "
        '\'MONGO_INITDB_ROOT_PASSWORD\' (val="$(< "${!fileVar}")")',
    )
    env_read = Fact(
        frozenset(
            {
                "MONGO_INITDB_ROOT_USERNAME",
                "MONGO_INITDB_ROOT_PASSWORD",
                "MONGO_INITDB_ROOT_USERNAME_FILE",
                "MONGO_INITDB_ROOT_PASSWORD_FILE",
                "MONGO_INITDB_DATABASE",
                "TMPDIR",
            }
        ),
        OFFICIAL + "8.0/docker-entrypoint.sh (file_env, MONGO_INITDB_DATABASE, TMPDIR)",
    )
    # Only root is made from the environment; anything else by an init script, run once,
    # on an empty data directory, while mongod listens on 127.0.0.1 without --auth.
    init_dir = Fact(
        "/docker-entrypoint-initdb.d",
        OFFICIAL + "8.0/docker-entrypoint.sh: for f in /docker-entrypoint-initdb.d/*; *.js) "
        '"${mongo[@]}" "$MONGO_INITDB_DATABASE" "$f"; _mongod_hack_ensure_no_arg --auth; '
        'skipped when "$dbPath/WiredTiger" exists',
    )
    port = Fact(27017, OFFICIAL + "8.0/Dockerfile: EXPOSE 27017")
    cmd = Fact("mongod", OFFICIAL + '8.0/Dockerfile: CMD ["mongod"]')
    shell_on_path = Fact(
        "mongosh",
        OFFICIAL + "8.0/Dockerfile: apt-get install ${MONGO_PACKAGE}-shell (mongosh since 6.0); "
        "docker-entrypoint.sh: mongoShell='mongo'; command -v ... || mongoShell='mongosh'",
    )
    # How mongosh reads a file (the backup's root password; the init script's values).
    shell_reads_files = Fact(
        "fs.readFileSync",
        OFFICIAL + '8.0/docker-entrypoint.sh: "$mongoShell" --norc --nodb --quiet --eval '
        "\"... fs.readFileSync(..., 'utf8') ...\" (js-native in mongosh)",
    )
    # The entrypoint waits for mongod by mongosh's exit status after --eval 'quit(0)'.
    shell_exits_with = Fact(
        "quit",
        OFFICIAL + "8.0/docker-entrypoint.sh: if \"${mongo[@]}\" 'admin' --eval 'quit(0)'",
    )
    tools = Fact(
        frozenset({"mongosh", "mongodump", "mongorestore"}),
        OFFICIAL + "8.0/Dockerfile: apt-get install ${MONGO_PACKAGE}-shell, "
        "${MONGO_PACKAGE}-tools (mongodb-database-tools: mongodump, mongorestore)",
    )
    platforms = Fact(
        ("amd64", "arm64"),
        OFFICIAL + 'versions.json: "8.0".targets.ubuntu2404.arches ["amd64", "arm64v8"] '
        '(8.0/Dockerfile: FROM ubuntu:noble; "linux": "ubuntu2404")',
    )
    needs_avx = Fact(
        True,
        OFFICIAL + "8.0/docker-entrypoint.sh: amd64) grep avx /proc/cpuinfo || 'WARNING: "
        "MongoDB 5.0+ requires a CPU with AVX support'; arm64) 'MongoDB requires ARMv8.2-A'",
    )
    has_chown = Fact("chown", OFFICIAL + "8.0/docker-entrypoint.sh: find ... -exec chown")


@dataclass(frozen=True)
class SaintdlePacmanContract:
    port = Fact(
        8080,
        SAINTDLE + "1b871783fbd43bd862c502af3fa5990e4e01c83b:src/config/index.js: PORT "
        "default(8080); docker/Dockerfile: EXPOSE 8080",
    )
    env_read = Fact(
        frozenset(
            {
                "DB_TYPE",
                "MONGO_SERVICE_HOST",
                "MONGO_NAMESPACE_SERVICE_HOST",
                "MY_MONGO_PORT",
                "MONGO_DATABASE",
                "MONGO_AUTH_USER",
                "MONGO_AUTH_PWD",
                "MONGO_REPLICA_SET",
                "MONGO_USE_SSL",
                "MONGO_VALIDATE_SSL",
                "MY_NODE_NAME",
                "PORT",
                "HOST",
            }
        ),
        SAINTDLE + "1b871783fbd43bd862c502af3fa5990e4e01c83b:src/config/index.js (the zod "
        "schema over process.env); src/routes/location.js (MY_NODE_NAME)",
    )
    # Without DB_TYPE=mongo the scores live in the process's memory and die with the pod.
    db_type = Fact(
        ("DB_TYPE", "mongo"),
        SAINTDLE + "1b871783fbd43bd862c502af3fa5990e4e01c83b:src/config/index.js: DB_TYPE: "
        "z.enum(['memory', 'mongo', 'postgres']).default('memory')",
    )
    auth_pair = Fact(
        ("MONGO_AUTH_USER", "MONGO_AUTH_PWD"),
        SAINTDLE + "36a577832d713cd184e189856e25bfc1cebb2897:src/db/mongo.js: "
        "cfg.MONGO_AUTH_USER && cfg.MONGO_AUTH_PWD ? `${encodeURIComponent(...)}...@`",
    )
    password_forbidden = Fact(
        frozenset(),
        SAINTDLE + "36a577832d713cd184e189856e25bfc1cebb2897:src/db/mongo.js: "
        "encodeURIComponent(cfg.MONGO_AUTH_PWD)",
    )
    credentials_from_env = Fact(
        ("MONGO_AUTH_USER", "MONGO_AUTH_PWD"),
        SAINTDLE + "1b871783fbd43bd862c502af3fa5990e4e01c83b:src/config/index.js: "
        "schema.safeParse(process.env) (no *_FILE variable)",
    )
    liveness_path = Fact(
        "/healthz",
        SAINTDLE + "1a6e616c3d1884dc09e2c8e29ca8922828d981a1:src/routes/health.js: "
        "router.get('/healthz') answers without the database",
    )
    readiness_path = Fact(
        "/readyz",
        SAINTDLE + "1a6e616c3d1884dc09e2c8e29ca8922828d981a1:src/routes/health.js: "
        "router.get('/readyz'): db.healthcheck() (a ping), 503 when it fails",
    )
    # A failed first connect is never retried: /readyz stays 503 until the pod restarts.
    connects_once = Fact(
        True,
        SAINTDLE + "3fb71f74e898fdc640276400384cc65228d7911d:src/server.js: 'database connect "
        "failed; continuing in degraded state'; 36a577832d713cd184e189856e25bfc1cebb2897:"
        "src/db/mongo.js: healthcheck() { if (!this.db) return false; }",
    )
    token_path = Fact(
        "/var/run/secrets/kubernetes.io/serviceaccount/token",
        SAINTDLE + "4a5f70ef9a0a4c6c029c0f1ae60df423d75483e3:src/routes/location.js: "
        "SERVICE_ACCOUNT_DIR ... readFile(`${SERVICE_ACCOUNT_DIR}/token`)",
    )
    # Its topology probe may also read pods, services and endpointslices; a refusal falls
    # through to the node's zone label (logged at debug), so only `get nodes` is granted.
    node_api = Fact(
        ("get", "nodes"),
        SAINTDLE + "4a5f70ef9a0a4c6c029c0f1ae60df423d75483e3:src/routes/location.js: "
        "k8sGet(`/api/v1/nodes/${nodeName}`); getTopologyAwareRoutingZone catch -> null",
    )
    # /app is owned by group 0 and group-writable like its owner: any uid in group 0 reads it.
    group = Fact(
        0,
        SAINTDLE + "11fa3d2c43c149f4d626a43e68f1ebde5caaa6db:docker/Dockerfile: chown -R app:0 "
        "/app && chmod -R g=u /app ('lets arbitrary (OpenShift) UIDs read the app'); USER app",
    )
    writes_nothing = Fact(
        True,
        CHART + "values.yaml: securityContext.readOnlyRootFilesystem: true (the image's own chart)",
    )
    platforms = Fact(
        ("amd64", "arm64"),
        SAINTDLE + "181f70361a7176e611ad3df6e80d520e4b958c50:.github/workflows/release.yml: "
        "platforms: linux/amd64,linux/arm64 ('Build and publish multi-architecture image')",
    )
    needs_avx = Fact(
        False,
        SAINTDLE + "11fa3d2c43c149f4d626a43e68f1ebde5caaa6db:docker/"
        "Dockerfile: FROM node:22-alpine",
    )
    # The version's manifest list, as the chart's promotion pins it beside appVersion.
    digest = Fact(
        ("0.7.2", "sha256:48f22e19e88b7f22f55e766908cda6b613b8980c0f9464204591f36d7c606426"),
        CHART + 'values.yaml: image.digest; Chart.yaml: appVersion "0.7.2" (written together '
        "by saintdle/helm-charts .github/workflows/pacman-promotion.yml)",
    )


# stack name -> (its MongoDB's contract, its web app's)
CONTRACTS = {
    "lesson": (MongoContract, PacmanContract),
    "modern": (OfficialMongoContract, SaintdlePacmanContract),
}
