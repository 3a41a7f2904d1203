"""Build the Cython core against the system liburing (Debian liburing-dev >= 2.3) and numpy."""
import numpy
from Cython.Build import cythonize
from setuptools import Extension, setup

core = Extension(
    "pyrtap._core",
    sources=["pyrtap/_core.pyx"],
    include_dirs=["pyrtap/includes", numpy.get_include()],
    libraries=["uring"],
    extra_compile_args=["-O2", "-Wno-unused-function", "-Wno-unreachable-code"],
    define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")],
)

# The benchmark's raw C baselines (pyrtap.compare): plain write()/read() loops and an
# io_uring write loop on a TAP fd. It shares only includes/liburing.pxd with the core
# (declarations of system headers, so no include_dirs), no code.
rawbench = Extension(
    "pyrtap._rawbench",
    sources=["pyrtap/_rawbench.pyx"],
    libraries=["uring"],
    extra_compile_args=["-O2"],
)

setup(
    ext_modules=cythonize(
        [core, rawbench],
        language_level=3,
        compiler_directives={
            "boundscheck": False,
            "wraparound": False,
            "cdivision": True,
            "embedsignature": True,
        },
        include_path=["pyrtap"],
    )
)
