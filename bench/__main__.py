"""`make bench`: every benchmark under bench/, one after another."""

from bench import probe, render

if __name__ == "__main__":
    probe.main()
    render.main()
