"""A clean app."""
from __future__ import annotations

import asyncio


async def main() -> None:
    await asyncio.sleep(0)


if __name__ == "__main__":
    asyncio.run(main())
