/// Finds the one kind of TOML text known to abort TOMLKit's parser instead of failing: a table header
/// whose first character is neither a bare-key character nor a quote (`[#daemon]`, `[.engine]`, `[=]`,
/// a `[` ending its line). toml++ 3 asserts in `parse_key` on it, so `check-config` died with SIGABRT
/// and a `systemctl reload` took canaryd down (found by the fuzz target `fuzz-config`).
///
/// It follows comments, strings (basic, literal, multi-line), arrays and inline tables, so only a `[`
/// that starts a line outside any value counts as a header, and a valid document is never refused.
enum TOMLHeaderCheck {
    /// The 1-based line of the first such header, or nil.
    static func firstMalformedHeader(_ text: String) -> Int? {
        var b = Array(text.utf8)[...]
        if b.starts(with: [0xEF, 0xBB, 0xBF]) { b = b.dropFirst(3) }  // a UTF-8 byte order mark
        var i = b.startIndex
        var line = 1
        var depth = 0  // open arrays and inline tables
        var lineStart = true  // nothing but whitespace since the last newline
        while i < b.endIndex {
            let c = b[i]
            switch c {
            case newline:
                line += 1
                lineStart = true
                i += 1
                continue
            case space, tab, carriageReturn:
                i += 1
                continue
            case hash:
                while i < b.endIndex && b[i] != newline { i += 1 }
                continue
            case doubleQuote, singleQuote:
                i = skipString(b, from: i, line: &line)
            case openBracket where depth == 0 && lineStart:
                var j = i + 1
                if j < b.endIndex && b[j] == openBracket { j += 1 }
                while j < b.endIndex && (b[j] == space || b[j] == tab) { j += 1 }
                guard j < b.endIndex, isBareKey(b[j]) || b[j] == doubleQuote || b[j] == singleQuote else { return line }
                i = j
            case openBracket, openBrace:
                depth += 1
                i += 1
            case closeBracket, closeBrace:
                depth = max(0, depth - 1)
                i += 1
            default:
                i += 1
            }
            lineStart = false
        }
        return nil
    }

    /// The index just past the string starting at `start` (or where an unterminated one gives up).
    private static func skipString(_ b: ArraySlice<UInt8>, from start: Int, line: inout Int) -> Int {
        let quote = b[start]
        let multiLine = start + 2 < b.endIndex && b[start + 1] == quote && b[start + 2] == quote
        var i = start + (multiLine ? 3 : 1)
        while i < b.endIndex {
            let c = b[i]
            if c == backslash && quote == doubleQuote {
                i += 2
                continue
            }
            if c == newline {
                guard multiLine else { return i }  // unterminated: the line ends it
                line += 1
            }
            if c == quote {
                if !multiLine { return i + 1 }
                if i + 2 < b.endIndex && b[i + 1] == quote && b[i + 2] == quote {
                    var end = i + 3
                    while end < b.endIndex && b[end] == quote && end < i + 5 { end += 1 }  // up to two quotes may close it too
                    return end
                }
            }
            i += 1
        }
        return b.endIndex
    }

    private static func isBareKey(_ c: UInt8) -> Bool {
        (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || (c >= 0x30 && c <= 0x39) || c == 0x5F || c == 0x2D
    }

    private static let newline: UInt8 = 0x0A, carriageReturn: UInt8 = 0x0D, space: UInt8 = 0x20, tab: UInt8 = 0x09
    private static let hash: UInt8 = 0x23, doubleQuote: UInt8 = 0x22, singleQuote: UInt8 = 0x27, backslash: UInt8 = 0x5C
    private static let openBracket: UInt8 = 0x5B, closeBracket: UInt8 = 0x5D, openBrace: UInt8 = 0x7B, closeBrace: UInt8 = 0x7D
}
