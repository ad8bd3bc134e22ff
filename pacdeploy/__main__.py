from pacdeploy.cli import main

main()
