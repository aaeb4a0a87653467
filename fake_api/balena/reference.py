"""balenaCloud's public reference data, as plain tables: cpu architectures, device types with
their aliases, membership roles, host OS releases and supervisor releases.

Names, slugs, aliases and architectures are balenaCloud's (reference §6/§10 and the SDK's own
examples); the set of OS and supervisor versions is a realistic sample, including every version
the upstream SDK tests name (``2.15.1+rev2.prod``, ``2.83.21+rev1.prod/.dev``, ``5.3.21``,
``6.0.10``, supervisor ``12.11.0`` and ``14.11.0``).
"""

from __future__ import annotations

CPU_ARCHITECTURES = ("rpi", "armv7hf", "aarch64", "amd64", "i386")

#: The SDK's os.py ARCH_COMPATIBILITY_MAP, as the API also enforces it for moves.
ARCH_COMPATIBILITY = {"aarch64": ("armv7hf", "rpi"), "armv7hf": ("rpi",)}

#: slug -> (name, cpu architecture, legacy aliases, family)
DEVICE_TYPES: dict[str, tuple[str, str, tuple[str, ...], str]] = {
    "raspberry-pi": ("Raspberry Pi (v1 / Zero / Zero W)", "rpi", ("raspberrypi",), "raspberrypi"),
    "raspberry-pi2": ("Raspberry Pi 2", "armv7hf", ("raspberrypi2",), "raspberrypi"),
    "raspberrypi3": ("Raspberry Pi 3", "armv7hf", (), "raspberrypi"),
    "raspberrypi3-64": ("Raspberry Pi 3 (using 64bit OS)", "aarch64", (), "raspberrypi"),
    "raspberrypi4-64": ("Raspberry Pi 4 (using 64bit OS)", "aarch64", (), "raspberrypi"),
    "raspberrypi5": ("Raspberry Pi 5", "aarch64", (), "raspberrypi"),
    "raspberrypi0-2w-64": ("Raspberry Pi Zero 2 W (64bit OS)", "aarch64", (), "raspberrypi"),
    "fincm3": ("Balena Fin (CM3)", "armv7hf", (), "raspberrypi"),
    "beaglebone-black": ("BeagleBone Black", "armv7hf", (), "beaglebone"),
    "jetson-nano": ("Nvidia Jetson Nano SD-CARD", "aarch64", (), "jetson"),
    "generic-aarch64": ("Generic AARCH64", "aarch64", (), "generic"),
    "intel-nuc": ("Intel NUC", "amd64", ("nuc",), "generic"),
    "generic-amd64": ("Generic x86_64 (GPT)", "amd64", (), "generic"),
    "qemux86-64": ("QEMU X86 64bit", "amd64", (), "qemu"),
    "qemux86": ("QEMU X86 32bit", "i386", (), "qemu"),
}

ORGANIZATION_ROLES = ("administrator", "member")
APPLICATION_ROLES = ("developer", "operator", "observer")

#: The organization that owns the host OS fleets and supervisor fleets.
HOST_ORG = "balena_os"

#: Host OS releases of every device type: (semver, revision, variant, phase).
OS_RELEASES: tuple[tuple[str, int, str, str], ...] = (
    ("2.15.1", 2, "prod", "end-of-life"),
    ("2.15.1", 2, "dev", "end-of-life"),
    ("2.83.21", 1, "prod", "end-of-life"),
    ("2.83.21", 1, "dev", "end-of-life"),
    ("5.1.20", 1, "", "end-of-life"),
    ("5.3.21", 0, "", ""),
    ("6.0.10", 0, "", ""),
)

#: Supervisor releases per architecture: (semver, image location or None).
SUPERVISOR_RELEASES: tuple[tuple[str, str | None], ...] = (
    ("12.11.0", "registry2.balena-cloud.com/v2/4ca706e1c624daff7e519b3009746b2c"),
    ("14.11.0", None),
    ("16.1.0", None),
)


def contract(slug: str) -> dict:
    """A device type contract with the fields SDKs and the dashboard read."""
    name, arch, aliases, family = DEVICE_TYPES[slug]
    return {
        "slug": slug, "version": "1", "type": "hw.device-type", "name": name,
        "aliases": [slug, *aliases],
        "data": {
            "arch": arch, "hdmi": arch != "i386", "led": family == "raspberrypi",
            "connectivity": {"bluetooth": family == "raspberrypi", "wifi": True},
            "storage": {"internal": family in ("jetson", "generic", "qemu")},
            "media": {"defaultBoot": "sdcard" if family in ("raspberrypi", "beaglebone") else "image",
                      "altBoot": ["usb_mass_storage", "network"]},
            "is_private": False,
        },
        "assets": {"logo": {"url": f"data:image/svg+xml;base64,{slug}"}},
        "partials": {},
    }
