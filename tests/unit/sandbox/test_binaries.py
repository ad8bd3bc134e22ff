"""The sandbox's Go builds: stamped with the versions their modules pin."""


def test_the_snapshot_controller_is_stamped_with_the_version_its_module_pins() -> None:
    from pacdeploy.sandbox import binaries

    go_mod = (binaries.GOMOD_DIR / "snapshotter" / "go.mod").read_text()
    assert f"external-snapshotter/v8 {binaries.SNAPSHOTTER_VERSION}\n" in go_mod
    (controller,) = [b for b in binaries.BINARIES if b.name == "snapshot-controller"]
    assert f"-X main.version={binaries.SNAPSHOTTER_VERSION}" in controller.ldflags
