import Testing
@testable import BitTorrent

/// The leecher against in-memory seeds (our `SeedPeer` machine), bytes passed through the
/// real framer both ways.
@Suite struct LeechSessionTests {
    struct Swarm {
        var leech: LeechSession
        var seeds: [SeedPeer]
        var toSeed: [PeerWireFramer]
        var toLeech: [PeerWireFramer]
        var payload: [UInt8]
        /// Seeds whose served blocks get one byte flipped.
        var corrupt: Set<Int> = []
        var written: [Int: [UInt8]] = [:]
        var complete = false
        var closed: [Int] = []

        init(payloadSize: Int, pieceLength: UInt64, seeds: Int) {
            var rng = SystemRandomNumberGenerator()
            let bytes = (0..<payloadSize).map { _ in UInt8.random(in: 0...255, using: &rng) }
            payload = bytes
            let pieces = stride(from: 0, to: payloadSize, by: Int(pieceLength)).map {
                Metainfo.sha1(Array(bytes[$0..<min(payloadSize, $0 + Int(pieceLength))]))
            }
            let torrent = Metainfo(name: "sda1", pieceLength: pieceLength, pieces: pieces,
                                   files: [Metainfo.File(path: [Array("00000000000000000000000000000000".utf8)], length: UInt64(payloadSize))],
                                   announce: nil, createdBy: nil, creationDate: nil)
            leech = LeechSession(torrent: torrent, peerID: Array("-LS0100-leech0000000".utf8))
            self.seeds = (0..<seeds).map { k in
                SeedPeer(torrent: SeedPeer.Torrent(torrent), configuration: SeedPeer.Configuration(peerID: [UInt8](repeating: UInt8(k + 1), count: 20), listenPort: 6881))
            }
            toSeed = (0..<seeds).map { _ in PeerWireFramer() }
            toLeech = (0..<seeds).map { _ in PeerWireFramer() }
        }

        mutating func run(chokeEvery: Int? = nil, maxSteps: Int = 200_000) {
            for k in seeds.indices { handleLeech(leech.connected(k)) }
            var steps = 0
            while !complete && steps < maxSteps {
                steps += 1
                var progressed = false
                for k in seeds.indices where !closed.contains(k) {
                    // Seed side: read what the leech sent.
                    if seeds[k].remote == nil, let hs = try? toSeed[k].nextHandshake() {
                        progressed = true
                        handleSeed(k, seeds[k].receivedHandshake(hs))
                        _ = seeds[k].setChoked(false).map { if case .send(let b) = $0 { toLeech[k].append(b) } }
                    }
                    while seeds[k].remote != nil, let message = try? toSeed[k].nextMessage() {
                        progressed = true
                        handleSeed(k, seeds[k].received(message))
                    }
                    if let every = chokeEvery, steps % every == 0 {
                        handleSeed(k, seeds[k].setChoked(!seeds[k].isChoked))
                    }
                    // Leech side.
                    if leechHandshaken[k] == false, let hs = try? toLeech[k].nextHandshake() {
                        progressed = true
                        leechHandshaken[k] = true
                        handleLeech(leech.handshake(k, hs))
                    }
                    while leechHandshaken[k] == true, let message = try? toLeech[k].nextMessage() {
                        progressed = true
                        handleLeech(leech.received(k, message))
                    }
                }
                if !progressed && chokeEvery == nil { break }
            }
        }

        var leechHandshaken: [Int: Bool] = [0: false, 1: false, 2: false, 3: false]

        mutating func handleSeed(_ k: Int, _ actions: [SeedPeer.Action]) {
            for action in actions {
                switch action {
                case .send(let bytes): toLeech[k].append(bytes)
                case .serve(let request):
                    let start = Int(UInt64(request.index) * leech.torrent.pieceLength + UInt64(request.begin))
                    var block = Array(payload[start..<(start + Int(request.length))])
                    if corrupt.contains(k) { block[0] ^= 0xFF }
                    toLeech[k].append(PeerMessage.piece(index: request.index, begin: request.begin, block: block[...]).encoded())
                    seeds[k].served(request, sent: true)
                case .close: closed.append(k)
                }
            }
        }

        mutating func handleLeech(_ actions: [LeechSession.Action]) {
            for action in actions {
                switch action {
                case .send(let k, let bytes): toSeed[k].append(bytes)
                case .write(let piece, let bytes): written[piece] = bytes
                case .close(let k, _): closed.append(k)
                case .complete: complete = true
                }
            }
        }

        var reassembled: [UInt8] { (0..<leech.torrent.pieces.count).flatMap { written[$0] ?? [] } }
    }

    @Test func downloadsEveryPieceFromSeveralSeedsAndVerifiesIt() {
        var swarm = Swarm(payloadSize: 5 * 65_536 + 1_000, pieceLength: 65_536, seeds: 3)
        swarm.run()
        #expect(swarm.complete)
        #expect(swarm.reassembled == swarm.payload)
        #expect(swarm.leech.leftBytes == 0)
        #expect(swarm.leech.hashFailures == 0)
    }

    @Test func aCorruptSeedCostsHashFailuresButNotTheResult() {
        var swarm = Swarm(payloadSize: 8 * 32_768, pieceLength: 32_768, seeds: 2)
        swarm.corrupt = [0]
        swarm.run(maxSteps: 20_000)
        // Seed 0 corrupts everything it sends: pieces it contributed fail and are fetched
        // again; a piece is written only once its hash matches.
        for (piece, bytes) in swarm.written {
            #expect(Metainfo.sha1(bytes) == swarm.leech.torrent.pieces[piece])
        }
        #expect(swarm.leech.hashFailures > 0)
    }

    @Test func chokesAndUnchokesDoNotLoseBlocks() {
        var swarm = Swarm(payloadSize: 6 * 65_536, pieceLength: 65_536, seeds: 2)
        swarm.run(chokeEvery: 7, maxSteps: 50_000)
        #expect(swarm.complete)
        #expect(swarm.reassembled == swarm.payload)
    }

    @Test func aResumedDownloadAsksOnlyForMissingPieces() {
        var swarm = Swarm(payloadSize: 4 * 65_536, pieceLength: 65_536, seeds: 1)
        swarm.leech = LeechSession(torrent: swarm.leech.torrent, peerID: swarm.leech.peerID, have: [true, false, true, false])
        swarm.run()
        #expect(swarm.complete)
        #expect(Set(swarm.written.keys) == [1, 3])
        #expect(swarm.leech.downloadedBytes == 2 * 65_536)
    }
}
