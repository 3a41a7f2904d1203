"""The virtual-device drivers, by the name prefix of their vdevs (``net_rtap0`` -> net_rtap)."""
from .rtap import RtapDriver
from .tap import TapDriver

DRIVERS = {
    RtapDriver.driver_name: RtapDriver,
    TapDriver.driver_name: TapDriver,
}


def driver_for(vdev_name: str):
    """The driver class whose name prefixes ``vdev_name``, or None."""
    for prefix in sorted(DRIVERS, key=len, reverse=True):
        if vdev_name.startswith(prefix):
            return DRIVERS[prefix]
    return None
