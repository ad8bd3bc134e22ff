"""`shell`: each stack's mongo shell, logging in with passwords read from the mounted files."""

from pacdeploy.app.manifests import Options, render
from pacdeploy.data import shell


def mongo_statefulset(stack):
    return next(o for o in render(Options(stack=stack)) if o["kind"] == "StatefulSet")


def test_the_lessons_shell_logs_in_with_passwords_read_from_the_mounted_files():
    found = shell.shell_of(mongo_statefulset("lesson"))
    assert found.program == "mongo"
    assert found.files["database-password"] == "/opt/bitnami/mongodb/secrets/mongodb-password"
    command = found.command(admin=False, expression=None)
    assert command[:4] == ["mongo", "--quiet", "--shell", "--eval"]
    script = command[-1]
    assert 'db.getSiblingDB(cat("/opt/bitnami/mongodb/secrets/mongodb-database").trim())' in script
    assert 'cat("/opt/bitnami/mongodb/secrets/mongodb-password").trim()' in script
    admin = found.command(admin=True, expression="db.stats()")
    assert "--shell" not in admin
    assert admin[-1].endswith(
        '"root", cat("/opt/bitnami/mongodb/secrets/mongodb-root-password")'
        ".trim()); printjson(db.stats())"
    )


def test_the_modern_stacks_shell_is_mongosh_reading_each_key_from_its_file():
    found = shell.shell_of(mongo_statefulset("modern"))
    admin = found.command(admin=True, expression="1")
    assert admin[0] == "mongosh"
    read = "fs.readFileSync(\"/etc/mongo-credentials/{}\", 'utf8').trim()"
    assert f"db.auth({read.format('database-admin-name')}, " in admin[-1]
    assert read.format("database-admin-password") in admin[-1]
    app = found.command(admin=False, expression="1")[-1]
    assert read.format("database-user") in app and read.format("database-password") in app
