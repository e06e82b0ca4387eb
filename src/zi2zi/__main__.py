from zi2zi.cli import main

raise SystemExit(main())
