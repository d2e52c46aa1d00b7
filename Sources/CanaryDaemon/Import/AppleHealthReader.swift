import CLibXML2
import CanaryCore
import Foundation

/// Reads an Apple Health `export.xml` with libxml2's streaming reader (`xmlTextReader`, a pull parser
/// over the file: one node at a time, never a tree), so a file of several GB costs no more memory than
/// a small one. Each `<Record>` goes to `AppleHealthRecords`; the internal DTD Apple puts at the top
/// is read as part of the document, no external entity or network is ever loaded.
enum AppleHealthReader {
    /// What a file came to: records imported and rejected, and the fault that ended it early (the XML
    /// malformed or cut short: the records before it are kept).
    struct Outcome {
        var read = 0
        var rejected = 0
        var fault: String?
    }

    /// Reads `path`. Throws when the file is not an Apple Health export (naming what was expected) or
    /// when `add` throws. A rejected record is named by its place among the file's `<Record>` elements
    /// and, while libxml2 keeps element line numbers (up to line 65534), its line.
    static func read(path: String, add: (ImportEntry) throws -> Void,
                     rejected: (ImportRejection) -> Void) throws -> Outcome {
        guard FileManager.default.isReadableFile(atPath: path),
              let reader = xmlReaderForFile(path, nil, Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue
                                                              | XML_PARSE_NOWARNING.rawValue | XML_PARSE_COMPACT.rawValue)) else {
            throw ImportError("\(path): cannot open the file")
        }
        defer { xmlFreeTextReader(reader) }
        var records = AppleHealthRecords()
        var rejectedCount = 0
        var ordinal = 0
        var sawRoot = false
        var addError: (any Error)?
        var status: Int32 = 1
        xmlResetLastError()
        while addError == nil {
            status = xmlTextReaderRead(reader)
            guard status == 1 else { break }
            guard xmlTextReaderNodeType(reader) == Int32(XML_READER_TYPE_ELEMENT.rawValue) else { continue }
            let name = text(xmlTextReaderConstLocalName(reader))
            guard sawRoot else {
                guard name == "HealthData" else {
                    throw ImportError("\(path): not an apple-health export: line \(xmlGetLineNo(xmlTextReaderCurrentNode(reader))): expected the "
                                      + "Health app's export.xml, whose root element is <HealthData>; found <\(name.prefix(40))>")
                }
                sawRoot = true
                continue
            }
            guard name == "Record" else { continue }
            ordinal += 1
            // Apple writes `type` first: records of other types are passed over without reading the rest.
            guard xmlTextReaderMoveToFirstAttribute(reader) == 1 else { continue }
            var attributes: [String: String] = [:]
            repeat {
                let key = text(xmlTextReaderConstLocalName(reader))
                let value = text(xmlTextReaderConstValue(reader))
                if key == "type" && !AppleHealthRecords.reads(type: value) { break }
                attributes[key] = value
            } while xmlTextReaderMoveToNextAttribute(reader) == 1
            xmlTextReaderMoveToElement(reader)
            guard attributes["type"] != nil else { continue }
            let line = xmlGetLineNo(xmlTextReaderCurrentNode(reader))
            let place = line > 0 && line < 65535 ? "record \(ordinal), line \(line)" : "record \(ordinal)"
            records.record(attributes, place: place, add: { entry in
                guard addError == nil else { return }
                do { try add(entry) } catch { addError = error }
            }, rejected: { r in
                rejectedCount += 1
                rejected(r)
            })
        }
        if let addError { throw addError }
        if status != 0 || !sawRoot {
            var why = "no element"
            if let e = xmlGetLastError() {
                why = "libxml2: " + text(e.pointee.message).trimmingCharacters(in: .whitespacesAndNewlines)
                if !sawRoot { why += " at line \(e.pointee.line)" }
            }
            guard sawRoot else {
                throw ImportError("\(path): not an apple-health export: expected the Health app's export.xml, an XML document whose root is <HealthData> (\(why))")
            }
            return Outcome(read: records.read, rejected: rejectedCount,
                           fault: "near line \(xmlTextReaderGetParserLineNumber(reader)): the XML is malformed or cut short (\(why)); "
                               + "the \(records.read) records before it were imported")
        }
        return Outcome(read: records.read, rejected: rejectedCount)
    }

    private static func text(_ p: UnsafePointer<xmlChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }

    private static func text(_ p: UnsafeMutablePointer<CChar>?) -> String {
        guard let p else { return "" }
        return String(cString: p)
    }
}
