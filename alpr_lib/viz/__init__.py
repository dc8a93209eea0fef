"""Maps, forms and tables for notebooks and dashboards: the only package that imports keplergl, ipywidgets and
itables.

Maps take the frames the Session returns (polars frames are converted to pandas here; kepler rejects
polars) and open centred on the data. Forms are small ipywidgets panels with stable CSS classes
(``alpr-...``) so browser tests and dashboards can find them. ``show(frame)`` is a frame as people read it
(local times, rounded numbers, lists as text; sortable and filterable), the same in notebooks and dashboards.
"""

from alpr_lib.viz.forms import CanvassForm, PlateForm, canvass_form, plate_form
from alpr_lib.viz.kepler import basemap_style, incident_shapes, map_config, plate_tracks, reads_map
from alpr_lib.viz.tables import Table, show

__all__ = ["CanvassForm", "PlateForm", "Table", "basemap_style", "canvass_form", "incident_shapes", "map_config",
           "plate_form", "plate_tracks", "reads_map", "show"]
