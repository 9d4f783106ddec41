"""Compiling a step: trace it once per signature, replay it as generated straight-line numpy.

``compiled`` holds :func:`compile` and :func:`replayed`; ``tracer`` the recording; ``values``
what arrays and numbers are while traced; ``program`` what a trace records; ``codegen`` how it
becomes Python source.
"""
from autotensor.compile.compiled import CompiledFunction, compile, guard_attribute, replayed

__all__ = ["CompiledFunction", "compile", "guard_attribute", "replayed"]
