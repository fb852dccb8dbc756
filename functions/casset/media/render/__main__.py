import sys

from casset.media.render.cli import main

sys.exit(main())
