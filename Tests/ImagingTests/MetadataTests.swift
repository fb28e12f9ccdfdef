import Foundation
import Testing
import _DSBuildTestSupport
@testable import Imaging

@Suite struct EmbeddedRightsTests {
    /// A JPEG carrying what a real iStock download carries: IPTC credit, XMP Getty GIFT id, WebStatement, DataMining.
    @Test func istockStyleJPEG() throws {
        let base = try ImageEncoder.jpeg(rgbImage(16, 16))
        let data = F.insertAfterSOI(base, [
            F.exifAPP1(orientation: 1, copyright: "Jane Photographer", artist: "Jane P."),
            F.xmpAPP1(F.istockXMP),
            F.iptcAPP13([(80, "Jane Photographer"), (110, "Getty Images/iStockphoto"), (115, "iStockphoto"),
                         (116, "© 2021 Jane Photographer")]),
        ])
        let r = try probe(data).rights
        #expect(r.exifCopyright == "Jane Photographer" && r.exifArtist == "Jane P.")
        #expect(r.iptcByline == ["Jane Photographer"])
        #expect(r.iptcCredit == "Getty Images/iStockphoto")
        #expect(r.iptcSource == "iStockphoto")
        #expect(r.iptcCopyrightNotice == "© 2021 Jane Photographer")
        #expect(r.xmpCredit == "Getty Images")
        #expect(r.gettyAssetID == "1234567890")
        #expect(r.xmpWebStatement?.hasPrefix("https://www.istockphoto.com/legal/license-agreement") == true)
        #expect(r.xmpWebStatement?.contains("&utm_source") == true)
        #expect(r.xmpDataMining == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING")
        #expect(r.dataMiningProhibited == true)
        #expect(r.xmpCreators == ["Jane Photographer", "Second Creator"])
        #expect(r.xmpRights == "© Jane Photographer")  // x-default preferred over the first li
        #expect(r.xmpLicensorURL?.contains("istockphoto.com/photo/license") == true)
        #expect(r.xmpDigitalSourceType?.hasSuffix("digitalCapture") == true)
        #expect(!r.declaresAIGenerated)

        let flat = r.flattened
        #expect(flat["exif.copyright"] == "Jane Photographer")
        #expect(flat["iptc.credit"] == "Getty Images/iStockphoto")
        #expect(flat["iptc.by_line"] == "Jane Photographer")
        #expect(flat["xmp.photoshop.credit"] == "Getty Images")
        #expect(flat["xmp.getty.asset_id"] == "1234567890")
        #expect(flat["xmp.plus.data_mining"]?.hasSuffix("DMI-PROHIBITED-EXCEPTSEARCHENGINEINDEXING") == true)
        #expect(flat["xmp.dc.creator"] == "Jane Photographer; Second Creator")
    }

    @Test func elementFormProhibitedAndAIGenerated() throws {
        let data = F.jpegHeader(width: 10, height: 10, segments: [F.xmpAPP1(F.prohibitedXMP)])
        let r = try probe(data).rights
        #expect(r.xmpDataMining == "http://ns.useplus.org/ldf/vocab/DMI-PROHIBITED")
        #expect(r.dataMiningProhibited == true)
        #expect(r.xmpMarked == "True")
        #expect(r.xmpUsageTerms == "No AI training")
        #expect(r.xmpSource == "Shutterstock")
        #expect(r.xmpLicensorName == "Shutterstock Inc")
        #expect(r.declaresAIGenerated)
        #expect(r.flattened["xmp.iptc_ext.digital_source_type"]?.hasSuffix("trainedAlgorithmicMedia") == true)
    }

    @Test func prefixIsIrrelevantOnlyNamespaceCounts() throws {
        // photoshop:Credit spelled with the right prefix but the wrong namespace must be ignored.
        let xml = """
        <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        <rdf:Description xmlns:photoshop="http://example.com/not-photoshop/" photoshop:Credit="Fake"/>
        </rdf:RDF></x:xmpmeta>
        """
        let r = try probe(F.jpegHeader(width: 10, height: 10, segments: [F.xmpAPP1(xml)])).rights
        #expect(r.xmpCredit == nil && r.isEmpty)
    }

    @Test func malformedXMPAndExternalEntitiesAreIgnored() throws {
        let bad = try probe(F.jpegHeader(width: 10, height: 10, segments: [F.xmpAPP1("<x:xmpmeta><unclosed")]))
        #expect(bad.rights.isEmpty && bad.width == 10)
        let xxe = """
        <?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>
        <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
        <rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/"><photoshop:Credit>&e;</photoshop:Credit></rdf:Description>
        </rdf:RDF></x:xmpmeta>
        """
        let r = try probe(F.jpegHeader(width: 10, height: 10, segments: [F.xmpAPP1(xxe)])).rights
        #expect(r.xmpCredit?.contains("root:") != true)
    }

    @Test func pngITXtXMP() throws {
        let data = F.pngHeader(width: 4, height: 4, chunks: [F.xmpITXt(F.istockXMP)])
        let r = try probe(data).rights
        #expect(r.xmpCredit == "Getty Images" && r.gettyAssetID == "1234567890")
    }

    @Test func exifCopyrightWithPhotographerAndEditorParts() throws {
        let data = F.jpegHeader(width: 10, height: 10, segments: [F.exifAPP1(copyright: "Photog\u{0}Editor")])
        #expect(try probe(data).rights.exifCopyright == "Photog; Editor")
    }

    @Test func noMetadataMeansEmpty() throws {
        let r = try probe(ImageEncoder.jpeg(rgbImage(8, 8))).rights
        #expect(r.isEmpty && r.flattened.isEmpty && r.dataMiningProhibited == nil)
    }

    /// Element values are trimmed of Unicode whitespace and newlines at both ends, never inside.
    @Test func elementTextIsTrimmedOfUnicodeWhitespace() throws {
        let xml = """
        <x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
         <rdf:Description xmlns:photoshop="http://ns.adobe.com/photoshop/1.0/">
          <photoshop:Credit>
        \t\u{00A0}Getty  Images\u{3000}\r
          </photoshop:Credit>
          <photoshop:Source> \u{2028} </photoshop:Source>
         </rdf:Description></rdf:RDF></x:xmpmeta>
        """
        let r = try probe(F.jpegHeader(width: 10, height: 10, segments: [F.xmpAPP1(xml)])).rights
        #expect(r.xmpCredit == "Getty  Images")
        #expect(r.xmpSource == nil)
        #expect(XMP.trimmingWhitespace("\n é \t") == "é" && XMP.trimmingWhitespace(" \n") == "")
    }

    @Test func hostileIFDOffsetsDoNotCrash() throws {
        // IFD0 pointing past the end, and an entry whose value offset is huge.
        var tiff = F.exifTIFF(orientation: 6, copyright: "A long copyright string")
        tiff[4] = 0xFF; tiff[5] = 0xFF
        let p = try probe(F.jpegHeader(width: 10, height: 10, segments: [F.jpegSegment(0xE1, F.ascii("Exif") + [0, 0] + tiff)]))
        #expect(p.orientation == 1 && p.rights.isEmpty)
    }
}

/// Metadata text in the encodings cameras and editors write.
@Suite struct MetadataStringTests {
    @Test func mixedValidUTF8StaysUTF8AndLegacyBytesAreLatin1() {
        #expect(metadataString(Array("김민지".utf8) + [0xFF]) == "김민지\u{FFFD}")
        #expect(metadataString([0x4A, 0xF6, 0x72, 0x67]) == "Jörg")
        #expect(metadataString(Array("Jörg ".utf8) + [0, 0]) == "Jörg")
    }
}
