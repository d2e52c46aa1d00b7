/// A baseline's verdict for one value: the person's usual centre and scale, and how far off the value is.
public struct Deviation: Sendable, Equatable {
    public var value: Double
    public var centre: Double
    public var scale: Double
    /// Robust z-score: (value - centre) / scale, with clock features compared on the circle.
    public var z: Double

    public init(value: Double, centre: Double, scale: Double, z: Double) {
        self.value = value
        self.centre = centre
        self.scale = scale
        self.z = z
    }

    /// A score in [0, 1], monotone in |z| and the same function of z for every subject and metric.
    ///
    /// `|z|^3 / (|z|^3 + 27)`: 0.5 at |z| = 3, 0.70 at 4, 0.90 at 6.2, 0.99 at 13.9. It approaches 1
    /// only slowly, so distinct large deviations keep distinct scores in double precision.
    public var score: Double { Deviation.score(z: z) }

    public static func score(z: Double) -> Double {
        let a = abs(z)
        guard a.isFinite else { return 1 }
        let c = a * a * a
        return c / (c + 27)
    }
}

/// Applies the scale floor so a flat history cannot produce infinite or meaningless z-scores.
public enum ScaleFloor {
    public static func apply(_ scale: Double, centre: Double, absolute: Double, relative: Double, circular: Bool) -> Double {
        let rel = circular ? 0 : Saturating.finite(relative * abs(centre))
        return max(scale, absolute, rel)
    }
}
