"""Small ipywidgets forms for the notebooks: what a person fills in before a query runs.

Each form holds widgets with stable CSS classes (``alpr-<form>-<field>``), shows its errors in one place
(an Output area with the message, never a traceback), and exposes ``values()`` so a notebook cell can run the
same query headless that the button runs in a browser.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as widgets

from alpr_lib.errors import AlprError
from alpr_lib.notebook import error_message

__all__ = ["CanvassForm", "PlateForm", "canvass_form", "plate_form"]


def _tag(widget: widgets.Widget, css: str) -> widgets.Widget:
    widget.add_class(css)
    return widget


class _Form:
    """Shared behaviour: a box of fields, a run button, one place for results and errors."""

    css = "alpr-form"

    def __init__(self, fields: dict[str, widgets.Widget], on_run: Callable[[dict[str, Any]], Any] | None,
                 title: str) -> None:
        self.fields = fields
        self.on_run = on_run
        self.result: Any = None
        self.button = _tag(widgets.Button(description="Run", button_style="primary", icon="search"),
                           f"{self.css}-run")
        self.message = _tag(widgets.HTML(""), f"{self.css}-message")
        self.output = _tag(widgets.Output(), f"{self.css}-output")
        self.button.on_click(lambda _: self.submit())
        for name, widget in fields.items():
            _tag(widget, f"{self.css}-{name.replace('_', '-')}")
        self.widget = _tag(widgets.VBox([widgets.HTML(f"<b>{title}</b>"), *fields.values(), self.button,
                                         self.message, self.output]), self.css)

    def values(self) -> dict[str, Any]:
        return {name: w.value for name, w in self.fields.items()}

    def submit(self) -> Any:
        """Run the query with the form's values; errors are shown in the form, not as a traceback."""
        self.message.value = ""
        if self.on_run is None:
            return None
        try:
            self.result = self.on_run(self.values())
        except AlprError as exc:
            self.message.value = f"<span style='color:#b00020'>&#9888; {html.escape(error_message(exc))}</span>"
            self.result = None
        return self.result

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)


class CanvassForm(_Form):
    css = "alpr-canvass"


class PlateForm(_Form):
    css = "alpr-plate"


def canvass_form(incident_options: list[tuple[str, str]], *, purposes: list[str], case_number: str = "",
                 radius_m: float = 300, before_min: float = 30, after_min: float = 30,
                 on_run: Callable[[dict[str, Any]], Any] | None = None,
                 multiple: bool = False) -> CanvassForm:
    """Incident(s), radius and window, purpose and case number for a canvass or a multi-scene search."""
    if multiple:
        incident = widgets.SelectMultiple(options=incident_options, value=[v for _, v in incident_options],
                                          description="Incidents", rows=min(6, max(3, len(incident_options))))
    else:
        incident = widgets.Dropdown(options=incident_options, description="Incident")
    fields = {
        "incident": incident,
        "radius_m": widgets.BoundedFloatText(value=radius_m, min=0, max=20_000, step=50, description="Radius (m)"),
        "before_min": widgets.BoundedFloatText(value=before_min, min=0, max=10_080, description="Before (min)"),
        "after_min": widgets.BoundedFloatText(value=after_min, min=0, max=10_080, description="After (min)"),
        "purpose": widgets.Dropdown(options=purposes, value="criminal investigation" if "criminal investigation"
                                    in purposes else purposes[0], description="Purpose"),
        "case_number": widgets.Text(value=case_number, placeholder="26-001234", description="Case no."),
    }
    return CanvassForm(fields, on_run, "Multi-scene search" if multiple else "Canvass around an incident")


def plate_form(*, plate: str = "", purposes: list[str], case_number: str = "", offense_types: list[str],
               offense_type: str | None = None, gap_s: float = 60,
               on_run: Callable[[dict[str, Any]], Any] | None = None) -> PlateForm:
    """One vehicle: plate, purpose, case number and the (serious) offense under investigation."""
    fields = {
        "plate": widgets.Text(value=plate, placeholder="9FJR553", description="Plate"),
        "purpose": widgets.Dropdown(options=purposes, value="criminal investigation" if "criminal investigation"
                                    in purposes else purposes[0], description="Purpose"),
        "case_number": widgets.Text(value=case_number, placeholder="26-001234", description="Case no."),
        "offense_type": widgets.Dropdown(options=offense_types, value=offense_type or offense_types[0],
                                         description="Offense"),
        "gap_s": widgets.BoundedFloatText(value=gap_s, min=1, max=3600, description="Gap (s)"),
    }
    return PlateForm(fields, on_run, "Vehicle analysis")
