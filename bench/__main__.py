"""`make bench`: every benchmark under bench/, one after another."""

from bench import metrics, probe, render

if __name__ == "__main__":
    probe.main()
    render.main()
    metrics.main()
