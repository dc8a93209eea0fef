import time
import alpr_lib as alpr
from alpr_lib.samples import planted_scenarios

def test_smoke(analyst):
    key = planted_scenarios(462)
    inc = {i["case_number"]: i for i in key["incidents"]}
    c = key["canvass"]
    i = inc[c["case_number"]]
    t=time.time()
    created = analyst.create_incident(i["case_number"], i["offense_type"], i["occurred_start"], occurred_end=i["occurred_end"], lat=i["lat"], lon=i["lon"], location_name=i["location_name"], exist_ok=True)
    g = analyst.canvass(created, c["radius_m"], c["before_min"], c["after_min"], purpose="criminal investigation", case_number=c["case_number"])
    print(time.time()-t); print(g[["plate","captured_local","distance_m","offset_min"]])
    ms = key["multi_scene"]
    incs = [analyst.create_incident(n, inc[n]["offense_type"], inc[n]["occurred_start"], occurred_end=inc[n]["occurred_end"], lat=inc[n]["lat"], lon=inc[n]["lon"], exist_ok=True) for n in ms["case_numbers"]]
    r = analyst.multi_scene(incs, 300, 30, 30, purpose="criminal investigation", case_number=ms["case_numbers"][0], group_confusions=True)
    print(r)
    cv = key["convoy"]
    r = analyst.convoy(cv["plate"], purpose="criminal investigation", case_number=cv["case_number"], offense_type=cv["offense_type"], gap_s=cv["gap_s"], min_co_occurrences=2)
    print(r.drop("evidence"))
    f = key["frequent_locations"]
    r = analyst.frequent_locations(f["plate"], purpose="criminal investigation", case_number=f["case_number"], offense_type=f["offense_type"])
    print(r.drop("read_ids"))
