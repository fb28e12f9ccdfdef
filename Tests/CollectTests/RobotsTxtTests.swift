@testable import Collect
import Testing

@Suite struct RobotsTxtTests {
    let text = """
        # comments are ignored
        User-agent: googlebot
        Disallow: /

        User-agent: *
        Disallow: /private/
        Allow: /private/public/
        Disallow: /*.gif$
        Disallow: /tmp
        Allow: /tmp$
        Sitemap: https://example.org/sitemap.xml
        """

    @Test(arguments: [
        ("/", true), ("/private/x.jpg", false), ("/private/public/x.jpg", true), ("/a/b.gif", false),
        ("/a/b.gif?x=1", true), ("/tmp", true), ("/tmp/x", false), ("/robots.txt", true),
    ])
    func longestMatchWinsWithWildcardsAndAnchors(path: String, allowed: Bool) {
        #expect(RobotsTxt(parsing: text, userAgent: "dsbuild/0.1.0").allows(path) == allowed)
    }

    @Test func ourGroupReplacesTheWildcardGroup() {
        let robots = RobotsTxt(parsing: "User-agent: *\nDisallow: /\n\nUser-agent: DSBuild\nDisallow: /no/\n", userAgent: "dsbuild")
        #expect(robots.allows("/yes.jpg"))
        #expect(!robots.allows("/no/x.jpg"))
    }

    @Test func allowWinsATieOfEqualLength() {
        let robots = RobotsTxt(parsing: "User-agent: *\nDisallow: /page\nAllow: /page\n", userAgent: "dsbuild")
        #expect(robots.allows("/page"))
    }

    @Test func groupsSharingRulesAndEmptyDisallow() {
        let robots = RobotsTxt(parsing: "User-agent: a\nUser-agent: *\nDisallow: /x\n\nUser-agent: b\nDisallow:\n", userAgent: "dsbuild")
        #expect(!robots.allows("/x/1.jpg"))
        #expect(RobotsTxt(parsing: "User-agent: *\nDisallow:\n", userAgent: "dsbuild").allows("/anything"))
    }

    @Test func failureVerdicts() {
        #expect(RobotsTxt.allowAll.allows("/x"))
        #expect(!RobotsTxt.disallowAll.allows("/x"))
    }
}

@Suite struct XRobotsTagTests {
    @Test(arguments: [
        (["noai"], "noai"), (["noindex, nofollow"], "noindex"), (["dsbuild: noimageai"], "noimageai"),
        (["googlebot: noai"], nil), (["nofollow", "noimageindex"], "noimageindex"),
        (["unavailable_after: 25 Jun 2010 15:00:00 PST"], nil), (["otherbot: noindex, noai"], nil), ([], nil),
    ] as [([String], String?)])
    func blockingDirectives(values: [String], expected: String?) {
        #expect(XRobotsTag.blockingDirective(in: values) == expected)
    }
}

@Suite struct HTMLTextTests {
    @Test func stripsCommonsMetadataHTML() {
        #expect(HTMLText.plainText("<a href=\"//commons.wikimedia.org/wiki/User:Jane\" title=\"User:Jane\">Jane &amp; Co</a>") == "Jane & Co")
        #expect(HTMLText.plainText("<p>A <b>red</b>\n kimchi</p><ul><li>jar</li></ul>") == "A red kimchi jar")
        #expect(HTMLText.plainText("plain") == "plain")
    }
}
