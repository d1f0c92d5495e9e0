from dxc_shared.db.base import Base
from dxc_shared.db.database import Database

__all__ = ["Base", "Database"]
