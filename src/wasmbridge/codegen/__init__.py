"""Static outputs generated from a module interface: Python stubs, JS glue."""
