from midrl_bench.cli import main

raise SystemExit(main())
