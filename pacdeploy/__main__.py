from pacdeploy.cli import run

run()
