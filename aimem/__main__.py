from aimem.cli import main

main()
