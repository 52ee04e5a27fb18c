from qconnect_local.cli import main

raise SystemExit(main())
