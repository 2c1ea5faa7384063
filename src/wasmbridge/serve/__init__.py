"""Serve WebAssembly HTTP handlers: a fresh sandboxed instance per request."""
