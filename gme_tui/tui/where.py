"""The header's line of where the console acts: profile, key source, endpoint, region.

Where it does not fit, the rest is shortened first; the endpoint's host and port are
never cut (`fit`).
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from rich.cells import cell_len

from ..context import endpoint_host
from ..safe_text import clean

SEP = " · "
ELLIPSIS = "…"


@dataclass(frozen=True)
class Where:
    profile: str
    source: str
    endpoint: str
    region: str | None = None
    demo: bool = False

    def fit(self, room: int) -> str:
        """The longest telling that fits in `room` columns: drop the key source, the region
        and the DEMO word (the banner below says it), then the endpoint's scheme, then cut
        the profile's name; the host and port stay whole whatever is left."""
        host = clean(endpoint_host(self.endpoint), one_line=True)
        scheme = urlsplit(self.endpoint).scheme if "://" in self.endpoint else ""
        url = f"{scheme}://{host}" if scheme else host
        profile = clean(self.profile, one_line=True)
        demo = "DEMO" if self.demo else None
        source = clean(self.source, one_line=True)
        region = clean(self.region, one_line=True) if self.region else None
        tellings = [
            (demo, profile, source, url, region),
            (demo, profile, url, region),
            (demo, profile, url),
            (profile, url),
            (profile, host),
        ]
        for parts in tellings:
            line = SEP.join(part for part in parts if part)
            if cell_len(line) <= room:
                return line
        keep = max(room - cell_len(SEP + host + ELLIPSIS), 1)
        short = profile
        while short and cell_len(short) > keep:
            short = short[:-1]
        return f"{short or profile[:1]}{ELLIPSIS}{SEP}{host}"
