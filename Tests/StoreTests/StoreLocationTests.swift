import Foundation
import Store
import Testing

/// How `--store` is told apart: a connection string (URL or libpq keyword string) never becomes a
/// SQLite file; everything else is a file. libpq reads the connection string, so a typo is refused
/// with libpq's own words before anything runs.
struct StoreLocationTests {
    @Test(arguments: [
        ("postgresql://sniff@db/fleet", true),
        ("postgres://db/fleet", true),
        ("postgresql://", true),
        ("postgresql:///fleet?service=x", true),
        ("postgresql:oops", true),  // clearly meant as an address: refused by libpq, never a file
        ("host=db dbname=fleet", true),
        ("service=fleet", true),
        ("  dbname = fleet", true),
        ("host=db prot=5432", true),  // a typo is still a connection string (libpq says what is wrong)
        ("store.sqlite", false),
        ("/var/lib/stratumsniff/store.sqlite", false),
        ("./host=db.sqlite", false),
        ("/tmp/a=b.sqlite", false),
        ("my store.sqlite", false),
        ("", false),
        ("=x", false),
        ("1host=db", false)
    ])
    func connectionStringsAreToldApartFromFiles(text: String, isConnection: Bool) {
        #expect(PostgresLocation.isConnectionString(text) == isConnection, "\(text)")
        let location = try? StoreLocation(text)
        if !isConnection { #expect(location?.file == text) }
    }

    @Test func libpqRefusesWhatItCannotRead() throws {
        for text in ["host=db prot=5432", "postgresql:oops", "host='unterminated"] {
            #expect(throws: StoreError.self, "\(text)") { try StoreLocation(text) }
        }
        do {
            _ = try StoreLocation("host=db prot=5432")
        } catch {
            #expect(
                error.description.contains("invalid connection option \"prot\"")
                    && error.description.contains("./host=db prot=5432"),
                "\(error)")
        }
    }

    @Test func aPasswordInTheAddressIsRefusedAndNeverEchoed() {
        for text in [
            "postgresql://sniff:hunter2@db/fleet", "host=db password=hunter2 dbname=fleet",
            "host=db password='hunter 2' dbname=fleet"
        ] {
            do {
                _ = try StoreLocation(text)
                Issue.record("\(text) was accepted")
            } catch {
                #expect(error.description.contains("PGPASSWORD") && !error.description.contains("hunter"), "\(error)")
            }
        }
    }

    @Test func addressesLibpqReadsAreAccepted() throws {
        for text in [
            "postgresql://sniff@db:5433,db2:5433/fleet?target_session_attrs=read-write&sslmode=verify-full&sslrootcert=/ca.crt",
            "host=a,b port=5432,5433 dbname=fleet target_session_attrs=read-write", "service=fleet", "postgresql://"
        ] {
            let location = try StoreLocation(text)
            guard case .postgresql(let pg) = location else {
                Issue.record("\(text) is not PostgreSQL")
                continue
            }
            #expect(pg.connectionString == text)
        }
    }
}
