// The built-in pool intelligence: known mining-pool, browser-miner and hashrate-marketplace
// domains, written by this project. One entry per line in the same format `--pool-list` reads:
//     domain  kind  coin[,coin...]
// Matched by domain suffix on label boundaries. It is Swift source (one string literal) rather
// than a bundled resource so the binary stays a single file to install.
// Keep it sorted by section; a test checks that every line parses and nothing is duplicated.
extension PoolIntelligence {
    public static let builtinList = #"""
        # --- Monero and other CryptoNight / RandomX pools ---
        supportxmr.com            pool  monero
        moneroocean.stream        pool  monero
        hashvault.pro             pool  monero
        c3pool.com                pool  monero
        c3pool.org                pool  monero
        xmrpool.eu                pool  monero
        xmrpool.net               pool  monero
        xmrpool.de                pool  monero
        xmrpool.me                pool  monero
        monerohash.com            pool  monero
        moneropool.com            pool  monero
        moneropool.org            pool  monero
        minexmr.com               pool  monero
        xmrfast.com               pool  monero
        xmr.pt                    pool  monero
        p2pool.io                 pool  monero
        p2pool.observer           pool  monero
        skypool.org               pool  monero
        bohemianpool.com          pool  monero
        fairhash.org              pool  monero
        usxmrpool.com             pool  monero
        minemonero.pro            pool  monero
        monero.crypto-pool.fr     pool  monero
        xmr.crypto-pool.fr        pool  monero
        crypto-pool.fr            pool  monero
        dwarfpool.com             pool  monero,ethereum
        minergate.com             pool  monero,bitcoin,ethereum,zcash
        xmr.gntl.uk               pool  monero
        gntl.co.uk                pool  monero
        xmrpool.xyz               pool  monero
        xmrminer.cc               pool  monero
        xmr.zeropool.io           pool  monero
        donate.v2.xmrig.com       pool  monero
        donate.ssl.xmrig.com      pool  monero
        donate.xmrig.com          pool  monero
        sumominer.com             pool  sumokoin
        aeon-pool.com             pool  aeon
        wownero.herominers.com    pool  wownero
        conceal.herominers.com    pool  conceal
        turtlepool.space          pool  turtlecoin
        gulf.moneroocean.stream   pool  monero
        pool.minexmr.to           pool  monero
        xmrpool.cc                pool  monero
        xmr.solopool.org          pool  monero
        kryptex.network           pool  monero,ethereum-classic,ravencoin,kaspa
        # --- Bitcoin (SHA-256) pools ---
        antpool.com               pool  bitcoin,litecoin,zcash,ethereum-classic
        f2pool.com                pool  bitcoin,litecoin,monero,zcash,ethereum-classic,ravencoin
        f2pool.io                 pool  bitcoin
        poolin.com                pool  bitcoin,litecoin
        poolin.me                 pool  bitcoin
        viabtc.com                pool  bitcoin,litecoin,zcash,ethereum-classic
        viabtc.io                 pool  bitcoin
        viabtc.top                pool  bitcoin
        slushpool.com             pool  bitcoin,zcash
        stratum.braiins.com       pool  bitcoin
        braiins.cn                pool  bitcoin
        foundryusapool.com        pool  bitcoin
        luxor.tech                pool  bitcoin,zcash
        poolbinance.com           pool  bitcoin,ethereum-classic,litecoin
        sbicrypto.com             pool  bitcoin
        spiderpool.com            pool  bitcoin,ethereum-classic
        emcd.io                   pool  bitcoin,litecoin,ethereum-classic,kaspa
        ultimuspool.com           pool  bitcoin
        secpool.com               pool  bitcoin
        kano.is                   pool  bitcoin
        ckpool.org                pool  bitcoin
        ss.btc.com                pool  bitcoin
        eu.ss.btc.com             pool  bitcoin
        pool.btc.com              pool  bitcoin
        btc.top                   pool  bitcoin
        pool.bitcoin.com          pool  bitcoin
        huobipool.com             pool  bitcoin
        bytepool.com              pool  bitcoin
        novablock.com             pool  bitcoin
        titan.io                  pool  bitcoin
        ghash.io                  pool  bitcoin
        eligius.st                pool  bitcoin
        btcguild.com              pool  bitcoin
        50btc.com                 pool  bitcoin
        bitminter.com             pool  bitcoin
        btcc.net                  pool  bitcoin
        ocean.xyz                 pool  bitcoin
        mining.ocean.xyz          pool  bitcoin
        public-pool.io            pool  bitcoin
        solo.ckpool.org           pool  bitcoin
        whitepool.io              pool  bitcoin
        1thash.top                pool  bitcoin
        okpool.me                 pool  bitcoin
        btcpool.io                pool  bitcoin
        bitfufu.com               marketplace  bitcoin
        # --- Litecoin / Scrypt and multi-algorithm pools ---
        litecoinpool.org          pool  litecoin
        ltcrabbit.com             pool  litecoin
        aikapool.com              pool  litecoin
        multipool.us              pool  litecoin,bitcoin
        prohashing.com            pool  litecoin,bitcoin
        zpool.ca                  pool  bitcoin
        zergpool.com              pool  bitcoin
        hashcryptos.com           pool  litecoin
        coinotron.com             pool  litecoin,ethereum,zcash
        mining-dutch.nl           pool  litecoin,bitcoin
        miningpoolhub.com         pool  ethereum,monero,zcash,litecoin
        suprnova.cc               pool  zcash,ravencoin,monero
        zhash.pro                 pool  zcash
        blockmasters.co           pool  ravencoin
        ahashpool.com             pool  bitcoin
        hashrefinery.com          pool  bitcoin
        blazepool.com             pool  bitcoin
        bsod.pw                   pool  ravencoin
        fairmine.pro              pool  monero
        icemining.ca              pool  monero
        rplant.xyz                pool  monero
        coinminerz.com            pool  monero
        cpu-pool.com              pool  monero
        mining4people.com         pool  ravencoin,kaspa
        unimining.net             pool  monero
        yiimp.eu                  pool  bitcoin
        gos.cx                    pool  monero
        acc-pool.pw               pool  kaspa
        hashpool.com              pool  kaspa,ethereum-classic
        altpool.pro               pool  bitcoin
        pool.sexy                 pool  ethereum-classic
        miningocean.org           pool  monero
        zpool.org                 pool  bitcoin
        # --- Ethereum-Classic / Ethash / Etchash pools ---
        ethermine.org             pool  ethereum,ethereum-classic
        ethpool.org               pool  ethereum
        flexpool.io               pool  ethereum,ethereum-classic
        2miners.com               pool  ethereum-classic,ravencoin,monero,zcash,kaspa,ergo
        nanopool.org              pool  monero,ethereum-classic,ravencoin,zcash,ergo,conflux
        sparkpool.com             pool  ethereum
        hiveon.net                pool  ethereum-classic,ethereum
        hiveon.com                pool  ethereum-classic,bitcoin
        ezil.me                   pool  ethereum-classic
        crazypool.org             pool  ethereum-classic
        k1pool.com                pool  ethereum-classic,ravencoin
        woolypooly.com            pool  ethereum-classic,ravencoin,kaspa,ergo
        solopool.org              pool  ethereum-classic,monero,kaspa
        666pool.cn                pool  ethereum
        uupool.cn                 pool  ethereum
        beepool.org               pool  ethereum
        e4pool.com                pool  ethereum
        minerall.io               pool  ethereum
        ethashpool.com            pool  ethereum
        zhizhu.top                pool  ethereum
        rustpool.xyz              pool  ethereum-classic
        baikalmine.com            pool  ethereum-classic
        fairpool.cloud            pool  ethereum-classic
        gteh.org                  pool  ethereum-classic
        etc.kryptex.network       pool  ethereum-classic
        etcpool.io                pool  ethereum-classic
        maxhash.org               pool  ethereum-classic
        ethpool.net               pool  ethereum
        mole-pool.net             pool  ethereum-classic
        # --- Ravencoin / KawPow pools ---
        ravenminer.com            pool  ravencoin
        ravenpool.ninja           pool  ravencoin
        mintpond.com              pool  ravencoin
        minermore.com             pool  ravencoin
        bitpoolmining.com         pool  ravencoin
        ravencoin.flypool.org     pool  ravencoin
        rvnpool.com               pool  ravencoin
        pool.ravencoin.online     pool  ravencoin
        # --- Zcash / Equihash pools ---
        flypool.org               pool  zcash,ravencoin,ycash
        zcash.flypool.org         pool  zcash
        zecmine.pro               pool  zcash
        zcashpool.com             pool  zcash
        zec.slushpool.com         pool  zcash
        # --- Other coins ---
        herominers.com            pool  monero,ravencoin,kaspa,ergo,conflux,dero
        grinmint.com              pool  grin
        kaspa-pool.org            pool  kaspa
        poolflare.com             pool  kaspa
        kaspapool.org             pool  kaspa
        ergopool.io               pool  ergo
        sigmanauts.com            pool  ergo
        getblok.io                pool  ergo
        dxpool.com                pool  bitcoin,litecoin
        dxpool.net                pool  bitcoin,litecoin
        beampool.io               pool  beam
        leafpool.com              pool  beam
        vipor.net                 pool  ravencoin,kaspa
        zano.herominers.com       pool  zano
        neoxa.herominers.com      pool  neoxa
        cfx.nanopool.org          pool  conflux
        ironfish.herominers.com   pool  ironfish
        pool.kryptex.com          pool  monero
        gpumine.org               pool  ethereum
        ethw.k1pool.com           pool  ethereum-pow
        unmineable.com            pool
        # --- Hashrate marketplaces and rental / profit-switching services ---
        nicehash.com              marketplace
        nicehash.eu               marketplace
        nicehash.net              marketplace
        miningrigrentals.com      marketplace
        cudominer.com             marketplace
        kryptex.com               marketplace
        cryptotab.net             marketplace
        salad.io                  marketplace
        salad.com                 marketplace
        hashing24.com             marketplace
        genesis-mining.com        marketplace
        hashflare.io              marketplace
        eobot.com                 marketplace
        # --- Browser miners (web-miner services and their pool proxies) ---
        coinhive.com              web-miner  monero
        coin-hive.com             web-miner  monero
        authedmine.com            web-miner  monero
        authedmine.eu             web-miner  monero
        cnhv.co                   web-miner  monero
        cryptoloot.pro            web-miner  monero
        crypto-loot.com           web-miner  monero
        crypto-loot.org           web-miner  monero
        webmine.pro               web-miner  monero
        webmine.cz                web-miner  monero
        coinimp.com               web-miner  monero
        coinimp.net               web-miner  monero
        jsecoin.com               web-miner
        minero.cc                 web-miner  monero
        coinhave.com              web-miner  monero
        coin-have.com             web-miner  monero
        ppoi.org                  web-miner  monero
        projectpoi.com            web-miner  monero
        cryptonoter.com           web-miner  monero
        minemytraffic.com         web-miner  monero
        webminepool.com           web-miner  monero
        webminerpool.com          web-miner  monero
        mineralt.io               web-miner  monero
        crypto-webminer.com       web-miner  monero
        coinerra.com              web-miner  monero
        monerominer.rocks         web-miner  monero
        hashing.win               web-miner  monero
        2giga.link                web-miner  monero
        afminer.com               web-miner  monero
        coinlab.biz               web-miner  monero
        deepminer.net             web-miner  monero
        cloudcoins.co             web-miner  monero
        minr.pw                   web-miner  monero
        miner.pr0gramm.com        web-miner  monero
        bmst.pw                   web-miner  monero
        bmnr.pw                   web-miner  monero
        hashforcash.us            web-miner  monero
        load.jsecoin.com          web-miner
        static.reasedoper.pw      web-miner  monero
        mataharirama.xyz          web-miner  monero
        listat.biz                web-miner  monero
        lmodr.biz                 web-miner  monero
        gridcash.net              web-miner  monero
        cryptaloot.pro            web-miner  monero
        coinpirate.cf             web-miner  monero
        freecontent.stream        web-miner  monero
        xmr.omine.org             web-miner  monero
        papoto.com                web-miner  monero
        nerohut.com               web-miner  monero
        webxmr.com                web-miner  monero
        """#
}
