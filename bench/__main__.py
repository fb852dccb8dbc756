"""`make bench`: every benchmark under bench/, one after another."""

from bench import probe

if __name__ == "__main__":
    probe.main()
