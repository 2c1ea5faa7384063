from wasmbridge.cli import main

raise SystemExit(main())
