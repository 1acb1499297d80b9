"""Where profiles come from: files, directories, URLs (with their kept copy) and plugins."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from lrs.config import Settings
from lrs.profile_sources import load_profiles
from plugins.hookspecs import hookimpl
from plugins.manager import make_plugin_manager
from statements.profiles import ProfileError, check
from tests.statements.test_profiles import DATA, VIDEO_EXT, load, video_statement

PLUGIN = Path(__file__).parent.parent / "sample_profile_plugin"
CMI5 = "https://w3id.org/xapi/cmi5"
VIDEO = "https://w3id.org/xapi/video"


class Served:
    """A real HTTP server on loopback answering from `documents` (path -> JSON)."""

    def __init__(self) -> None:
        self.documents: dict[str, Any] = {}
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                document = served.documents.get(self.path)
                body = json.dumps(document).encode() if document is not None else b"{}"
                self.send_response(200 if document is not None else 404)
                self.send_header("Content-Type", "application/ld+json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def served() -> Iterator[Served]:
    server = Served()
    yield server
    server.stop()


def plain(tmp_path: Path, *profiles: str) -> Settings:
    return Settings(data_dir=tmp_path, profiles=list(profiles),
                    profiles_fetch_timeout_seconds=2)


async def test_profile_sources_file_and_directory(tmp_path: Path) -> None:
    manager = make_plugin_manager(load_entry_points=False)
    from_dir = await load_profiles(plain(tmp_path, str(DATA)), manager)
    assert [p.id for p in from_dir] == [CMI5, VIDEO]  # the directory's files, sorted
    from_file = await load_profiles(plain(tmp_path, str(DATA / "video.jsonld")), manager)
    assert [p.id for p in from_file] == [VIDEO]


async def test_profile_sources_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match=r"cannot read .*nowhere\.jsonld"):
        await load_profiles(plain(tmp_path, str(tmp_path / "nowhere.jsonld")),
                            make_plugin_manager(load_entry_points=False))


async def test_profile_sources_url_fetched_then_its_copy_used(tmp_path: Path,
                                                             served: Served) -> None:
    served.documents["/video"] = load("video")
    settings = plain(tmp_path, f"{served.url}/video")
    manager = make_plugin_manager(load_entry_points=False)
    assert [p.id for p in await load_profiles(settings, manager)] == [VIDEO]
    assert len(list((tmp_path / "profiles").glob("*.jsonld"))) == 1
    del served.documents["/video"]  # the profile server answers 404 now: the copy serves
    assert [p.id for p in await load_profiles(settings, manager)] == [VIDEO]
    with pytest.raises(ProfileError, match=r"/other could not be fetched .* no copy"):
        await load_profiles(plain(tmp_path, f"{served.url}/other"), manager)


async def test_profile_sources_extension_schema_iri_fetched(tmp_path: Path,
                                                           served: Served) -> None:
    document = load("video")
    length = next(c for c in document["concepts"] if c["id"] == VIDEO_EXT + "length")
    del length["inlineSchema"]
    length["schema"] = f"{served.url}/schemas/length"
    served.documents["/schemas/length"] = {"type": "number", "minimum": 0}
    served.documents["/video"] = document
    (profile,) = await load_profiles(plain(tmp_path, f"{served.url}/video"),
                                     make_plugin_manager(load_entry_points=False))
    statement = video_statement("https://w3id.org/xapi/video/verbs/played",
                                result={"extensions": {VIDEO_EXT + "time": 1}}, length=-3)
    (finding,) = check(statement, [profile]).findings
    assert finding.rule == f"schema of {VIDEO_EXT}length"
    assert "less than the minimum of 0" in finding.message


async def test_profile_sources_entry_point_plugin_ships_a_profile(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Installed as a third-party package is: its module and dist-info on sys.path, found
    # through importlib.metadata in the `lrs` entry-point group.
    monkeypatch.syspath_prepend(str(PLUGIN))
    manager = make_plugin_manager()
    assert manager.has_plugin("sample_video_profile")
    profiles = await load_profiles(plain(tmp_path, str(DATA / "cmi5.jsonld")), manager)
    assert [p.id for p in profiles] == [CMI5, VIDEO]


async def test_profile_sources_configured_profile_wins_and_bad_plugin_is_named(
        tmp_path: Path) -> None:
    edited = load("video")
    edited["templates"] = edited["templates"][:1]

    class Edited:
        @hookimpl
        def lrs_profiles_documents(self) -> list[dict[str, Any]]:
            return [edited]

    profiles = await load_profiles(plain(tmp_path, str(DATA / "video.jsonld")),
                                   make_plugin_manager(load_entry_points=False,
                                                       extra=(Edited(),)))
    assert [len(p.templates) for p in profiles] == [9]  # LRS_PROFILES' copy, not the plugin's

    class Broken:
        @hookimpl
        def lrs_profiles_documents(self) -> list[dict[str, Any]]:
            return [{"id": "x", "type": "Concept"}]

    manager = make_plugin_manager(load_entry_points=False, extra=(Broken(),))
    with pytest.raises(ProfileError, match=r"a profile from plugin .*\(Broken\)"):
        await load_profiles(plain(tmp_path), manager)
