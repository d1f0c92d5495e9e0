"""The `dxc` command: the embedded mode (every service and both sandboxes in one process) and
operator utilities."""
