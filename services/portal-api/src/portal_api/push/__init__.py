"""Push from Dynamics: the Dataverse webhook registered at install, and its endpoint."""
