"""fleetsim[memfault]: the real memfault command against the fake."""


def test_memfault_cli(memfault_cli, tmp_path):
    payload = tmp_path / "fw.bin"
    payload.write_bytes(b"firmware" * 64)
    memfault_cli("upload-ota-payload", "--hardware-version", "evt", "--software-type", "main",
                 "--software-version", "1.0.0", str(payload), check=True)
    memfault_cli("deploy-release", "--release-version", "1.0.0", "--cohort", "default", check=True)
