from windtui.cli import main

raise SystemExit(main())
