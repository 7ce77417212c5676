from purchasing.cli import main

main()
