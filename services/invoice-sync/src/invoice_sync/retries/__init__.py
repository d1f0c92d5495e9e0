"""Retries a person asks for in the portal: a failed invoice's export status set back to No."""
