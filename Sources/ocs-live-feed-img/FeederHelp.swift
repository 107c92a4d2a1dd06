enum FeederHelp {
    static let text = """
        Usage: ocs-live-feed-img [OPTION]... start|stop|status|start-now [IMAGE] [DEVICE]...
        Publishes a Clonezilla image to a lab (Clonezilla Lite Server compatible): the job over
        HTTP (port 80), the partitions by multicast/broadcast (udpcast, ports 2232+2k) or
        BitTorrent (trackers 6969+2k), DHCP/TFTP for network boot, job reports on TCP 6461.

          start IMAGE DEVICE...   check the image, start the daemon, return once it serves
          stop                    end the daemon and everything it started; withdraw the job
          status                  sessions and clients (also http://SERVER/ and /status)
          start-now               a session waiting for more clients starts with those it has

        Feeder options (single-dash names as the original spells them):
          -md multicast|broadcast|bittorrent     transport
          -dm no-dhcpd|start-new-dhcpd|use-existing-dhcpd|auto-detect   DHCP for netboot
          -cbm local-boot-media|netboot|both     how clients boot Clonezilla live
          -lscm massive-deployment|interactive-client
          --time-to-wait S  --clients-to-wait N  --max-time-to-wait S   when stream 1 starts
          -mcast-iface IFACE / -bt-iface IFACE   interface (default: the default route's)
          -x (full duplex)  -brdcst (broadcast)  -sc0 (skip the restorable check)
          -cm -cs -cb2 -cb3   verify MD5SUMS / SHA1SUMS / B2SUMS / B3SUMS before serving
          -mp DIR   image root (default /home/partimag)
        Options forwarded to the clients' ocs-sr: -b -v -g -e1 -e2 -r -j2 -k* -t* -icds -p ... (README)
        LiteServer options:
          --config FILE      defaults (conf/feeder.conf; /etc/liteserver/feeder.conf when present)
          --state-dir DIR    lock, pid, published files, status (default /run/liteserver)
          --log-dir DIR      daemon log, clonezilla-jobs.log, jobs.jsonl (default /var/log/liteserver)
          --tftp-root DIR    netboot tree (default /tftpboot/nbi_img)   --live-media DIR   live medium
          --foreground       stay attached (logs to standard error)
          --client-generation 5.3.17|upstream   which ocs-sr the clients run
        Options come before the mode word. Exit status: 0 done, 1 failure, 2 usage error.
        """
}
