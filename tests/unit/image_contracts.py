"""What the manifests rely on inside the two images, each fact with the source file it comes from.

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
