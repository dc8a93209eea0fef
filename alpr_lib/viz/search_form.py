"""An ipywidgets form for partial-plate search: what an analyst fills in, with errors shown plainly.

The form only calls :meth:`Session.search_plates`; policy refusals and bad input appear as one red line in
the form (never a traceback), and the last results stay available as ``form.results``.
"""

from __future__ import annotations

from datetime import date

import ipywidgets as w
import polars as pl
from IPython.display import display

from alpr_lib.errors import AlprError
from alpr_lib.notebook import error_message
from alpr_lib.session import Session
from alpr_lib.viz.tables import show

__all__ = ["PlateSearchForm"]


class PlateSearchForm:
    """Pattern, purpose, case number and dates; the Search button runs an audited search."""

    def __init__(self, session: Session, *, pattern: str = "", purpose: str | None = None, case_number: str = "",
                 start: date | None = None, end: date | None = None, max_rows: int = 200) -> None:
        self.session = session
        self.max_rows = max_rows
        self.results: pl.DataFrame | None = None
        names = [p["name"] for p in session.purposes()]
        style = {"description_width": "110px"}
        self.pattern = w.Text(value=pattern, description="Plate pattern", placeholder="e.g. 7AB?12*",
                              style=style)
        self.purpose = w.Dropdown(options=["(choose a purpose)", *names], value=purpose or "(choose a purpose)",
                                  description="Purpose", style=style, layout=w.Layout(width="420px"))
        self.case_number = w.Text(value=case_number, description="Case number", placeholder="NN-NNNNNN",
                                  style=style)
        self.start = w.DatePicker(value=start, description="From", style=style)
        self.end = w.DatePicker(value=end, description="To (incl.)", style=style)
        self.exact = w.Checkbox(value=False, description="Exact characters only (no OCR confusions)", indent=False,
                                layout=w.Layout(width="420px"))
        self.button = w.Button(description="Search", button_style="primary", icon="search")
        self.message = w.HTML()
        self.output = w.Output()
        self.button.on_click(lambda _b: self.run())
        for widget, css in ((self.pattern, "alpr-pattern"), (self.purpose, "alpr-purpose"),
                            (self.case_number, "alpr-case"), (self.button, "alpr-search-button"),
                            (self.message, "alpr-message"), (self.output, "alpr-results")):
            widget.add_class(css)
        help_text = w.HTML("<small><b>?</b> one unknown character &nbsp; <b>*</b> any run &nbsp; "
                           "<b>[B8]</b> one of a set &nbsp;·&nbsp; every search is recorded in the audit log "
                           "with your name, purpose and case number.</small>")
        self.widget = w.VBox([self.pattern, help_text, self.purpose, self.case_number,
                              w.HBox([self.start, self.end]), self.exact, self.button, self.message, self.output])
        self.widget.add_class("alpr-search-form")

    def _ipython_display_(self) -> None:
        display(self.widget)

    def run(self) -> pl.DataFrame | None:
        """Run the search with the form's values; show results or the reason it was refused."""
        purpose = None if self.purpose.value.startswith("(") else self.purpose.value
        self.message.value = "<i>searching…</i>"
        self.output.clear_output()
        try:
            self.results = self.session.search_plates(
                self.pattern.value, purpose=purpose, case_number=self.case_number.value or None,
                start=self.start.value, end=self.end.value, exact=self.exact.value)
        except AlprError as exc:
            self.results = None
            self.message.value = f"<span style='color:#b00020'>&#9888; {_escape(error_message(exc))}</span>"
            return None
        hits = self.results
        plates = hits.get_column("plate").n_unique() if hits.height else 0
        self.message.value = (f"<span style='color:#1b5e20'>{hits.height} reads of {plates} plates "
                              f"(exact matches first)</span>")
        with self.output:
            shown = hits.select("plate", "match", "captured_local", "camera_id", "unit", "region",
                                "plate_confidence", "read_id")
            display(show(shown.head(self.max_rows)))
            if hits.height > self.max_rows:
                print(f"showing the first {self.max_rows}; all {hits.height} are in form.results")
        return hits


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
