"""A short walkthrough of personas on built-in demo data (no network, about a minute).

Run it as ``python examples/walkthrough.py [OUTPUT_FOLDER]``; in Jupyter, run the cells
one by one and every result renders inline (reports, profiles, k selection, charts).
"""

import sys
from pathlib import Path

import personas

out = Path(sys.argv[1] if len(sys.argv) > 1 else "walkthrough-output")
out.mkdir(parents=True, exist_ok=True)

# 1. Data: 5,000 synthetic users with planted segments (the truth is kept apart).
users, truth = personas.datasets.make_users(5_000, random_state=0)

# 2. Check it: the role of every column (ids, personal data, numbers, dates…) and warnings.
report = personas.validate(users)
print(report)
print(report.to_pandas()[["column", "role", "pct_missing"]].head(8).to_string(index=False))

# 3. Explore it: distributions, associations and alerts on a bounded sample.
eda = personas.eda(report)
print(eda)
for alert in eda.alerts[:3]:
    print(" -", alert["message"])
eda.write_html(out / "eda.html")

# 4. Segment it: k is chosen automatically, and the choice is explained.
run = personas.segment(report, random_state=0)
print(run)
print(run.k_selection)
print(run.k_reason)

# 5. What sets each segment apart, with 95 % intervals, and the rules that select it.
print(run.to_pandas().to_string(index=False))
print(run.profiles.to_pandas().head(8).to_string(index=False))
for seg in run.segments[:3]:
    best = seg.rules["rules"][0]
    print(f"segment {seg.id} · {seg.name}: {best['rule']} (precision {best['precision']:.0%})")

# 6. What to do about it: insights citing the numbers they rest on.
for insight in run.insights["insights"][:4]:
    print(f"[{insight['priority']}] {insight['segment_name']}: {insight['title']}")
    print(f"    {insight['because']}")

# 7. Two segments side by side.
print(run.compare(0, 1).to_pandas().head(5).to_string(index=False))

# 8. Charts: matplotlib (static) or plotly (interactive) from the same function.
run.plot("radar").savefig(out / "radar.png", dpi=90)
run.plot("sizes", interactive=True).write_html(out / "sizes.html", include_plotlyjs=True)

# 9. The report, its Markdown twin and the model, which scores new users.
run.write_html(out / "report.html")
run.to_markdown(out / "report.md")
run.model.save(out / "model.personas")
model = personas.load(out / "model.personas")
scored = model.predict(users.head(10))
print(scored[["user_id", "segment", "segment_name"]].to_string(index=False))
print(f"Outputs in {out}/")
