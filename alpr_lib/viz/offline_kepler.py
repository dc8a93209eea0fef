"""The keplergl widget, made to ask no third party for a basemap it was told not to draw.

Why this exists: keplergl's anywidget front end (keplergl 0.4, kepler.gl 3.x) mounts ``<KeplerGl>`` without
``mapStyles`` or ``mapStylesReplaceDefault``. The new map therefore starts with kepler's built-in style list
and its default style, ``dark-matter``, and fetches that style from ``basemaps.cartocdn.com`` as it mounts:
before the saved config (applied afterwards by ``addDataToMap``) can switch to ``no_map``. Nothing in a
saved config can prevent that request; it also logs kepler's "Mapbox Token not valid" warning whenever the
token is empty, although no Mapbox style is in use.

So the widget's own script is served with two small, checked edits:

1. the ``<KeplerGl>`` element gets ``mapStyles`` and ``mapStylesReplaceDefault`` from two synced traits
   (:attr:`OfflineKeplerGl.map_styles`, :attr:`OfflineKeplerGl.replace_default_styles`); with the
   built-in list replaced, the default style id names no style, nothing is fetched, and the config's
   style (an inline empty style, or the department's own style URL) is the only one;
2. kepler's Mapbox-token check returns at once when the built-in styles (the only ones that need a token)
   are replaced.

Each edit must match exactly once; if a keplergl release changes its script, building a map fails with a
message saying so, rather than silently reaching the internet again.

What the browser console still shows from keplergl itself (none of it about basemaps, none from our config):
``deck: `layer.state.attributeManager` is deprecated`` (kepler.gl 3.3 calling an old deck.gl API), and
``[keplergl-widget] Timeout waiting for instance registration`` (the widget arms a 5 s timer while it waits for
its kepler instance and never clears it, so it warns even after the instance registered). Both are harmless;
Chromium without a GPU adds "GL Driver Message ... GPU stall due to ReadPixels".
"""

from __future__ import annotations

import re
from functools import cache
from importlib.metadata import version
from pathlib import Path

import keplergl
import traitlets
from keplergl import KeplerGl

from alpr_lib.errors import ConfigError

__all__ = ["OfflineKeplerGl", "patched_widget_script"]

_SCRIPT = Path(keplergl.__file__).parent / "static" / "widget.js"
#: (what the edit does, pattern, replacement): each pattern must match exactly once.
_EDITS: tuple[tuple[str, str, str], ...] = (
    ("pass mapStyles and mapStylesReplaceDefault from the model",
     r"(function \w+\(\{model:(\w+)\}\)\{.{0,3000}?mapboxApiAccessToken:\w+,)(appName:)",
     r'\1mapStyles:\2.get("map_styles")||[],mapStylesReplaceDefault:!!\2.get("replace_default_styles"),\3'),
    ("skip the Mapbox token check when no Mapbox style can be chosen",
     r'(\{key:"_validateMapboxToken",value:function\(\)\{)',
     r"\1if(this.props.mapStylesReplaceDefault)return;"),
)


@cache
def patched_widget_script() -> str:
    """keplergl's widget script with the two edits above (read once per process)."""
    text = _SCRIPT.read_text(encoding="utf-8")
    for what, pattern, replacement in _EDITS:
        text, count = re.subn(pattern, replacement, text, flags=re.DOTALL)
        if count != 1:
            raise ConfigError(
                f"keplergl {version('keplergl')} changed its widget script: cannot {what} (matched {count} "
                "times, expected once). alpr_lib.viz was written for keplergl 0.4.0; without this edit a map "
                "would fetch a third-party basemap, so maps are refused until alpr_lib.viz is updated.")
    return text


class OfflineKeplerGl(KeplerGl):
    """A KeplerGl widget whose basemap styles are exactly the ones given (see the module docstring)."""

    map_styles = traitlets.List(traitlets.Dict(), default_value=[]).tag(sync=True)
    replace_default_styles = traitlets.Bool(True).tag(sync=True)

    @property
    def _esm(self) -> str:  # read when a map is made, so a changed keplergl fails the map, not the import
        return patched_widget_script()
