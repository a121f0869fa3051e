# tsunagu: the CA's signature over directory.toml (check with `tsunagu admin directory verify`)
algorithm = "ecdsa-p256-sha256"
version = 1
signature = "MEQCIC6XhNX4aunQTsP4XDLv6fDuoBGdM95VN373b2kf3W7IAiB2XojVz4hQvzM/BaEHwc29hyeZHamZLZC0N51Mdd/9PQ=="
