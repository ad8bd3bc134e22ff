"""Security scanning of the rendered manifests (run by `make lint`)."""
